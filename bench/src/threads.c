/* threads T K: T threads each write the global g K times, one write at a
 * time (under a mutex: at most one watchpoint trap is pending at once, and
 * every write is a value change a debugger must report).  The first T/2
 * threads exist when bench_start() is reached (where gdb sets its
 * watchpoint), the other T/2 are created after it; all start writing
 * together after a barrier. */
#include <pthread.h>
#include "bench.h"

#define MAXT 1024

volatile long g;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t bar;
static long K;

static void *worker(void *p)
{
	long idx = (long)p;
	pthread_barrier_wait(&bar);
	for (long j = 0; j < K; j++) {
		pthread_mutex_lock(&mu);
		g = idx * 1000000 + j + 1;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long t = arg_long(argc, argv, 1, 64);
	static pthread_t th[MAXT];
	K = arg_long(argc, argv, 2, 20);
	if (t < 2 || t > MAXT)
		return 1;
	pthread_barrier_init(&bar, NULL, t + 1);
	for (long i = 0; i < t / 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	bench_start();
	for (long i = t / 2; i < t; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&bar);
	for (long i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	bench_end();
	return 0;
}
