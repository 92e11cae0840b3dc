/* nonstop: N threads (named w0..w3) spin, each counting in counts[i]
 * through mark(i); w0 also calls only0(). main calls ready() when all
 * have started, then waits. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define N 4

volatile long counts[N];
volatile long shared;
static volatile int started;

__attribute__((noinline)) void mark(long i) { counts[i]++; }
__attribute__((noinline)) void only0(void) { shared++; }
__attribute__((noinline)) void ready(void) {}

static void *worker(void *arg)
{
	long i = (long)arg;
	char name[8];

	snprintf(name, sizeof name, "w%ld", i);
	pthread_setname_np(pthread_self(), name);
	__sync_fetch_and_add(&started, 1);
	for (;;) {
		mark(i);
		if (i == 0)
			only0();
	}
	return 0;
}

int main(void)
{
	pthread_t t;

	for (long i = 0; i < N; i++)
		pthread_create(&t, 0, worker, (void *)i);
	while (started < N)
		usleep(1000);
	ready();
	for (;;)
		pause();
}
