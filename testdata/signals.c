/* signals: argv[1] picks what happens.
 *   usr1:  raise SIGUSR1 (handled: the handler counts), then exit 0
 *   segv:  store through a null pointer
 *   abort: abort(), so the process dies by SIGABRT */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile int handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

void crash(int *p)
{
	*p = 42;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "usr1";

	signal(SIGUSR1, on_usr1);
	if (strcmp(what, "usr1") == 0) {
		raise(SIGUSR1);
		printf("handled=%d\n", handled);
		return 0;
	}
	if (strcmp(what, "segv") == 0) {
		crash(NULL);
		return 0;
	}
	if (strcmp(what, "abort") == 0)
		abort();
	return 2;
}
