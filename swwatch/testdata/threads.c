/* threads N M: N threads exist when the program calls ready(); the test
 * sets its watch there; then N more threads are created. Each of the 2N
 * threads writes g M times and reads it M times, under a mutex (so that
 * every write is a new value), and counts what it did in its own slot of
 * writes[] and reads[]. done() is called after every thread is joined. */
#include <pthread.h>
#include <stdlib.h>

#define MAXT 256
volatile long g __attribute__((aligned(4096)));
volatile long sink;
volatile long writes[MAXT], reads[MAXT];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start_first;
static long m;

__attribute__((noinline)) void ready(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

static void *worker(void *arg) {
	long id = (long)arg;
	if (id < MAXT / 2)
		pthread_barrier_wait(&start_first);
	for (long i = 0; i < m; i++) {
		pthread_mutex_lock(&mu);
		g = g + 1;
		writes[id]++;
		reads[id]++;
		pthread_mutex_unlock(&mu);
	}
	return 0;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 4;
	m = argc > 2 ? atol(argv[2]) : 10;
	pthread_t t[MAXT];
	pthread_barrier_init(&start_first, 0, n + 1);
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], 0, worker, (void *)i);
	ready();
	pthread_barrier_wait(&start_first);
	for (long i = 0; i < n; i++)
		pthread_create(&t[n + i], 0, worker, (void *)(MAXT / 2 + i));
	for (int i = 0; i < 2 * n; i++)
		pthread_join(t[i], 0);
	done();
	return 0;
}
