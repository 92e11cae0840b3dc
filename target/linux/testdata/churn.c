/* churn: creates and ends threads continuously, two at a time. */
#include <pthread.h>

volatile long g;

static void *worker(void *arg) {
	g++;
	return arg;
}

int main(void) {
	for (;;) {
		pthread_t a, b;
		pthread_create(&a, 0, worker, 0);
		pthread_create(&b, 0, worker, 0);
		pthread_join(a, 0);
		pthread_join(b, 0);
	}
}
