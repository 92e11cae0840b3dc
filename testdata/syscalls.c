/* syscalls: system calls for gdb's `catch syscall`. Each of argv[1]
 * threads (default 2), one after the other, writes "w\n" and calls
 * getppid(2); then main reads 8 bytes from a pipe into page.buf (alone
 * on its page), writes "done\n" and returns 0. getpid(2) is never
 * called. w1 .. w4 are never written: watching them takes the four
 * debug registers, so that a watch of page.buf is emulated. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

long w1, w2, w3, w4;
struct {
	char buf[8];
	char pad[4096 - 8];
} page __attribute__((aligned(4096)));

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
	int fds[2];

	for (int i = 0; i < n; i++) {
		pthread_t t;
		pthread_create(&t, NULL, worker, NULL);
		pthread_join(t, NULL);
	}
	if (pipe(fds) != 0 || write(fds[1], "01234567", 8) != 8)
		return 1;
	if (syscall(SYS_read, fds[0], page.buf, 8) != 8)
		return 2;
	syscall(SYS_write, 1, "done\n", 5);
	return 0;
}
