/* stepwatch: 64 threads add to one counter, each after 1000 increments
 * of a counter of its own, for ever; main spins. A watchpoint on counter
 * hits in some thread at almost every step of another. all_started() is
 * called once every thread runs. */
#include <pthread.h>

#define THREADS 64

volatile long counter;
volatile long spins[THREADS + 1];
static pthread_barrier_t ready;

void all_started(void)
{
}

static void *worker(void *arg)
{
	long id = (long)arg;

	pthread_barrier_wait(&ready);
	for (;;) {
		for (int i = 0; i < 1000; i++)
			spins[id]++;
		__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	pthread_barrier_init(&ready, NULL, THREADS + 1);
	for (long i = 1; i <= THREADS; i++)
		pthread_create(&t, NULL, worker, (void *)i);
	pthread_barrier_wait(&ready);
	all_started();
	for (;;)
		spins[0]++;
	return 0;
}
