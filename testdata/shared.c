/* shared: a program several debuggers watch at once. Every round (paced
 * by the clock, 1 ms) it writes counter5, calls tick(), and, when a
 * debugger has set poke to N (1-4), writes quietN once. The quiet
 * variables are written at no other time. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

long quiet1, quiet2, quiet3, quiet4;
long counter5;
volatile int poke;
volatile long rounds;

void tick(void)
{
}

void poked(int n)
{
	(void)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : -1;
	struct timespec ts = {0, 1000000};
	long *quiet[] = {0, &quiet1, &quiet2, &quiet3, &quiet4};

	printf("pid %d ready\n", (int)getpid());
	fflush(stdout);
	for (rounds = 0; n < 0 || rounds < n; rounds++) {
		counter5++;
		tick();
		if (poke >= 1 && poke <= 4) {
			int p = poke;

			poke = 0;
			(*quiet[p])++;
			poked(p);
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}
