/* nonstop: four named threads (w0..w3) count in counts[i] through
 * mark(i), w0 also calls only0(); w1 and w2 store their counts in watch1
 * and watch2 every 1024 counts (two threads hitting watchpoints at once).
 * main calls ready() when all have started; with the argument "churn" it
 * then starts and joins short-lived threads ("short") until finish is set.
 * quiet[] is never written. The workers stop when finish is set; main
 * joins them and exits 5. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N 4

volatile long counts[N];
volatile long shared;
volatile long watch1, watch2;
volatile long shorts;
volatile long quiet[5]; /* never written: for watchpoints that wait */
volatile int finish;
static volatile int started;

__attribute__((noinline)) void mark(long i) { counts[i]++; }
__attribute__((noinline)) void only0(void) { shared++; }
__attribute__((noinline)) void ready(void) {}
__attribute__((noinline)) void short_work(void) { shorts++; }

static void *worker(void *arg)
{
	long i = (long)arg;
	char name[8];

	snprintf(name, sizeof name, "w%ld", i);
	pthread_setname_np(pthread_self(), name);
	__sync_fetch_and_add(&started, 1);
	while (!finish) {
		mark(i);
		if (i == 0)
			only0();
		if ((counts[i] & 1023) == 0) {
			if (i == 1)
				watch1 = counts[i];
			if (i == 2)
				watch2 = counts[i];
		}
	}
	return 0;
}

static void *short_lived(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "short");
	short_work();
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t[N];

	for (long i = 0; i < N; i++)
		pthread_create(&t[i], 0, worker, (void *)i);
	while (started < N)
		usleep(1000);
	ready();
	while (argc > 1 && strcmp(argv[1], "churn") == 0 && !finish) {
		pthread_t s;
		pthread_create(&s, 0, short_lived, 0);
		pthread_join(s, 0);
		usleep(2000);
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], 0);
	return 5;
}
