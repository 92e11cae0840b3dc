/* exit: "code" exits 42; "signal" kills itself with SIGTERM; "env"
   exits 0 if GDBSERVERX_TRAMPOLINE is unset and FOO=bar, else 1; "args"
   exits with argc; "sigdfl" exits 0 if no signal is ignored or blocked,
   else with the first such signal's number. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "signal") == 0)
		kill(getpid(), SIGTERM);
	if (argc > 1 && strcmp(argv[1], "env") == 0) {
		const char *foo = getenv("FOO");
		return getenv("GDBSERVERX_TRAMPOLINE") == 0 && foo && strcmp(foo, "bar") == 0 ? 0 : 1;
	}
	if (argc > 1 && strcmp(argv[1], "args") == 0)
		return argc;
	if (argc > 1 && strcmp(argv[1], "sigdfl") == 0) {
		sigset_t mask;
		sigprocmask(SIG_BLOCK, 0, &mask);
		for (int sig = 1; sig < 32; sig++) {
			struct sigaction sa;
			if (sigaction(sig, 0, &sa) == 0 && sa.sa_handler == SIG_IGN)
				return sig;
			if (sigismember(&mask, sig))
				return sig;
		}
		return 0;
	}
	return 42;
}
