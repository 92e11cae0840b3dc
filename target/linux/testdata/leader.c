/* leader: the main thread exits with pthread_exit (leaving a zombie
   leader) while a worker spins until the test sets quit; the worker then
   exits the process with status 3. */
#include <pthread.h>
#include <stdlib.h>

volatile int quit;

static void *worker(void *arg) {
	while (!quit)
		;
	exit(3);
	return arg;
}

int main(void) {
	pthread_t t;
	pthread_create(&t, 0, worker, 0);
	pthread_exit(0);
}
