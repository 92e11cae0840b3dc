/* execthread: a second thread execs this program again with "done"; the
   new image exits 9. The main thread waits meanwhile. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static char *self;

static void *worker(void *arg) {
	execl("/proc/self/exe", self, "done", (char *)0);
	return arg;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "done") == 0)
		return 9;
	self = argv[0];
	pthread_t t;
	pthread_create(&t, 0, worker, 0);
	for (;;)
		pause();
}
