/* condthreads: THREADS threads each call tick(id, i) for i = 0 .. N-1
 * (argv[1], default 100), all at once; main checks that every call was
 * made once, says so on its standard output, calls done() and exits 0,
 * or 1 if not. Breakpoints on tick, with conditions and dprintf, are hit
 * by several threads at a time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4

static long n = 100;
static long calls[THREADS];
static pthread_barrier_t go;

__attribute__((noinline)) void tick(int id, long i)
{
	__atomic_add_fetch(&calls[id], i + 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) void done(void)
{
	__asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;

	pthread_barrier_wait(&go);
	for (long i = 0; i < n; i++)
		tick(id, i);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];

	if (argc > 1)
		n = atol(argv[1]);
	pthread_barrier_init(&go, NULL, THREADS);
	for (long id = 0; id < THREADS; id++)
		pthread_create(&t[id], NULL, worker, (void *)id);
	for (int id = 0; id < THREADS; id++)
		pthread_join(t[id], NULL);
	for (int id = 0; id < THREADS; id++)
		if (calls[id] != n * (n + 1) / 2) {
			printf("thread %d: %ld\n", id, calls[id]);
			fflush(stdout);
			done();
			return 1;
		}
	printf("all calls made\n");
	fflush(stdout);
	done();
	return 0;
}
