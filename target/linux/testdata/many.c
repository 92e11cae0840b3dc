/* many: starts N threads (argv[1], default 200) that wait on a pipe
   ("block") or spin ("spin", argv[2]), then calls all_ready() and waits
   for ever. Thread names are "worker". */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fds[2];
static int spin;
volatile long counter;

__attribute__((noinline)) void all_ready(void) { counter++; }

static void *worker(void *arg) {
	pthread_setname_np(pthread_self(), "worker");
	if (spin)
		for (;;)
			counter++;
	char c;
	read(fds[0], &c, 1);
	return arg;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 200;
	spin = argc > 2 && strcmp(argv[2], "spin") == 0;
	pipe(fds);
	for (int i = 0; i < n; i++) {
		pthread_t t;
		pthread_create(&t, 0, worker, 0);
	}
	all_ready();
	for (;;)
		pause();
}
