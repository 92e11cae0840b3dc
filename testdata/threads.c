/* threads: waves of named worker threads that start, work and end while
 * the program runs. all_started() is called while every worker of a wave
 * is alive and named; wave_done() after the wave is joined. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 4

volatile long work_total;
int waves = 3;
/* started: every worker has named itself; go: main has seen them all. */
static pthread_barrier_t started, go;

void worker_step(long i)
{
	__atomic_add_fetch(&work_total, i, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	long id = (long)arg;
	char name[16];

	snprintf(name, sizeof name, "worker-%ld", id);
	pthread_setname_np(pthread_self(), name);
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&go);
	for (long i = 0; i < 1000; i++)
		worker_step(i);
	return NULL;
}

void wave_done(int wave)
{
	(void)wave;
}

void all_started(void)
{
}

int main(int argc, char **argv)
{
	pthread_t t[WORKERS];

	if (argc > 1)
		waves = atoi(argv[1]);
	pthread_barrier_init(&started, NULL, WORKERS + 1);
	pthread_barrier_init(&go, NULL, WORKERS + 1);
	for (int w = 0; w < waves; w++) {
		for (long i = 0; i < WORKERS; i++)
			pthread_create(&t[i], NULL, worker, (void *)(w * WORKERS + i));
		pthread_barrier_wait(&started);
		all_started();
		pthread_barrier_wait(&go);
		for (int i = 0; i < WORKERS; i++)
			pthread_join(t[i], NULL);
		wave_done(w);
	}
	printf("work_total=%ld\n", work_total);
	return 0;
}
