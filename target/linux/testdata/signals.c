/* signals: by default raises SIGUSR1, then faults with SIGSEGV.
   "stop": raises SIGSTOP, then exits 5 (after a SIGCONT). */
#include <signal.h>
#include <string.h>

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "stop") == 0) {
		raise(SIGSTOP);
		return 5;
	}
	raise(SIGUSR1);
	*(volatile int *)0 = 1;
	return 0;
}
