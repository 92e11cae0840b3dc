/* manythreads T D: T threads, each parked D+1 frames deep (park() calls
 * itself D times, then waits on a condition variable).  Once all are
 * parked, main calls bench_start() through D frames of deep(), so a
 * backtrace of any thread has a known depth. */
#include <pthread.h>
#include "bench.h"

#define MAXT 4096

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t parked_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t release_cv = PTHREAD_COND_INITIALIZER;
static long parked, released;
static long depth;

static void wait_release(void)
{
	pthread_mutex_lock(&mu);
	parked++;
	pthread_cond_signal(&parked_cv);
	while (!released)
		pthread_cond_wait(&release_cv, &mu);
	pthread_mutex_unlock(&mu);
}

/* The empty asm after each call keeps gcc from turning it into a jump. */
NOIPA void park(long d)
{
	if (d > 0)
		park(d - 1);
	else
		wait_release();
	__asm__ volatile("" ::: "memory");
}

NOIPA void deep(long d)
{
	if (d > 0)
		deep(d - 1);
	else
		bench_start();
	__asm__ volatile("" ::: "memory");
}

static void *worker(void *p)
{
	(void)p;
	park(depth);
	return NULL;
}

int main(int argc, char **argv)
{
	long t = arg_long(argc, argv, 1, 1000);
	static pthread_t th[MAXT];
	pthread_attr_t attr;
	depth = arg_long(argc, argv, 2, 10);
	if (t < 1 || t > MAXT)
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (long i = 0; i < t; i++)
		if (pthread_create(&th[i], &attr, worker, NULL))
			return 1;
	pthread_mutex_lock(&mu);
	while (parked < t)
		pthread_cond_wait(&parked_cv, &mu);
	pthread_mutex_unlock(&mu);
	deep(depth);
	bench_end();
	pthread_mutex_lock(&mu);
	released = 1;
	pthread_cond_broadcast(&release_cv);
	pthread_mutex_unlock(&mu);
	for (long i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	return 0;
}
