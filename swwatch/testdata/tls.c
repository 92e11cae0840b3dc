/* tls N: writes and reads a __thread variable N times (on the page of
 * the thread's descriptor, which the engine cannot protect: step mode),
 * calling clock_gettime (the vDSO) and getppid (a system call) on the
 * way. tvaddr holds the variable's address. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

__thread volatile long tv;
volatile long *volatile tvaddr;
volatile long sink;

__attribute__((noinline)) void ready(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 10;
	tvaddr = &tv;
	ready();
	for (long i = 0; i < n; i++) {
		struct timespec ts;
		tv = i + 1;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sink += tv + ts.tv_nsec;
		sink += getppid();
	}
	done();
	return 0;
}
