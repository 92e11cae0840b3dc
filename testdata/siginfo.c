/* siginfo: a SIGSEGV handler installed with SA_SIGINFO exits with the
 * low byte of the si_addr it received; the fault is at address 8. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	_exit((int)((unsigned long)si->si_addr & 0xff));
}

int main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	*(volatile int *)8 = 1;
	return 1;
}
