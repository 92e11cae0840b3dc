/* rwatch2: two threads each read g N times in quick succession; an
   rwatch on g must report all 2N reads, none lost, none twice. */
#include <pthread.h>
#include <stdlib.h>
volatile long g = 7;
volatile long sink;
static long n = 50;
static pthread_barrier_t b;
static void *reader(void *arg) {
	(void)arg;
	pthread_barrier_wait(&b);
	for (long i = 0; i < n; i++)
		sink += g;
	return 0;
}
int main(int argc, char **argv) {
	if (argc > 1)
		n = atol(argv[1]);
	pthread_t t[2];
	pthread_barrier_init(&b, 0, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], 0, reader, 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], 0);
	return sink == 2 * n * 7 ? 0 : 1;
}
