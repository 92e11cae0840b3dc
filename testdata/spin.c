/* spin: runs until interrupted or killed. Once it is well into its loop
 * it prints its pid and "ready", so that tests can attach to it or
 * interrupt it knowing it runs. */
#include <stdio.h>
#include <unistd.h>

volatile unsigned long spins;

void spin_once(void)
{
	spins++;
}

int main(void)
{
	for (;;) {
		spin_once();
		if (spins == 1000000) {
			printf("pid %d ready\n", (int)getpid());
			fflush(stdout);
		}
	}
}
