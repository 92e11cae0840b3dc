/* watch: stores the tests watch with debug registers.
   "threads": 8 threads write g once each, one after the other.
   "pair": one 8-byte store over pair, watched as two 4-byte halves.
   "loop": writes g for ever. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

volatile long g;
volatile uint64_t pair __attribute__((aligned(8)));
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
	pthread_mutex_lock(&mu);
	g = (long)arg;
	pthread_mutex_unlock(&mu);
	return 0;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "pair") == 0) {
		pair = 0x1122334455667788ull;
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "loop") == 0) {
		for (long i = 0;; i++)
			g = i;
	}
	pthread_t t[8];
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], 0, worker, (void *)(i + 1));
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], 0);
	return 0;
}
