/* syscalls MODE: the kernel writes watched memory.
 *   file: read(2) of 16 bytes from a regular file into buf;
 *   pipe: a thread writes 16 bytes into a pipe after ready(); main reads
 *         them into buf (a read that blocks);
 *   pipe1: main writes 16 bytes into a pipe, then after ready() reads them
 *         into buf (a read that may block, in a process of one thread);
 *   clock: clock_gettime(CLOCK_MONOTONIC) (the vDSO, in user mode) and
 *         clock_gettime(CLOCK_PROCESS_CPUTIME_ID) (a system call) into ts;
 *   same: read(2) of the bytes buf already holds (a same-value write).
 * Then done(). buf and ts are each alone on their page. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct page {
	char buf[16];
	char pad[4096 - 16];
} __attribute__((aligned(4096)));
struct tpage {
	struct timespec ts;
	char pad[4096 - sizeof(struct timespec)];
} __attribute__((aligned(4096)));
struct page pg;
struct tpage tp;
volatile long nread;
int fds[2];

__attribute__((noinline)) void ready(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

static void *writer(void *arg) {
	(void)arg;
	write(fds[1], "0123456789abcdef", 16);
	return 0;
}

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "file";
	if (!strcmp(mode, "file") || !strcmp(mode, "same")) {
		int fd = open(argv[0], O_RDONLY);
		if (!strcmp(mode, "same")) {
			pread(fd, pg.buf, 16, 0);
			ready();
		} else
			ready();
		nread = read(fd, pg.buf, 16);
		close(fd);
	} else if (!strcmp(mode, "pipe")) {
		pipe(fds);
		ready();
		pthread_t t;
		pthread_create(&t, 0, writer, 0);
		nread = read(fds[0], pg.buf, 16);
		pthread_join(t, 0);
	} else if (!strcmp(mode, "pipe1")) {
		pipe(fds);
		write(fds[1], "0123456789abcdef", 16);
		ready();
		nread = read(fds[0], pg.buf, 16);
	} else if (!strcmp(mode, "clock")) {
		ready();
		clock_gettime(CLOCK_MONOTONIC, &tp.ts);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &tp.ts);
		nread = tp.ts.tv_nsec != 0;
	}
	done();
	return 0;
}
