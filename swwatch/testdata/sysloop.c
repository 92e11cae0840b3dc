/* sysloop N: N getppid() system calls between bench_start() and
 * bench_end(), for the cost of a syscall stop while watches are set; g
 * is the variable to watch (never touched). */
#include <stdlib.h>
#include <unistd.h>

volatile long g __attribute__((aligned(4096)));
volatile long sink;

__attribute__((noipa)) void bench_start(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noipa)) void bench_end(void) { __asm__ volatile("" ::: "memory"); }

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	bench_start();
	for (long i = 0; i < n; i++)
		sink += getppid();
	bench_end();
	return 0;
}
