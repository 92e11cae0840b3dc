/* bploop N: calls hit() N times; gdb puts a breakpoint on hit(). */
#include "bench.h"

volatile long sink;

NOIPA void hit(long i) { sink += i; }

int main(int argc, char **argv)
{
	long n = arg_long(argc, argv, 1, 1000);
	bench_start();
	for (long i = 0; i < n; i++)
		hit(i);
	bench_end();
	return 0;
}
