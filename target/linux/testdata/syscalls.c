/* syscalls: system calls for the tests of CatchSyscalls. Each of
 * argv[1] threads (default 2), one after the other, makes a write(2)
 * and a getppid(2); then main writes "done". getpid(2) is never called,
 * so a catch of it must never stop. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *worker(void *arg)
{
	(void)arg;
	syscall(SYS_write, 1, "w\n", 2);
	syscall(SYS_getppid);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;

	for (int i = 0; i < n; i++) {
		pthread_t t;
		pthread_create(&t, NULL, worker, NULL);
		pthread_join(t, NULL);
	}
	syscall(SYS_write, 1, "done\n", 5);
	return 0;
}
