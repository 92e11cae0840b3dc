/* sigstep: installs a SIGUSR1 handler, then loops calling tick(); the
 * handler counts in handled. mask(): blocks SIGUSR2 with sigprocmask. */
#include <signal.h>
#include <string.h>

volatile long handled, counter;

static void handler(int sig) {
	(void)sig;
	handled++;
}

__attribute__((noinline)) void tick(void) { counter++; }

__attribute__((noinline)) void mask(void) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, 0);
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, 0);
	mask();
	for (;;)
		tick();
}
