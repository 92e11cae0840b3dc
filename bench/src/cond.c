/* cond N: calls hit(i) for i = 0 .. N-1, twice (round 0, then round 1);
 * gdb puts `break hit if i == N-1` on it, evaluated by the server in
 * round 0 and by gdb in round 1. */
#include "bench.h"

volatile long sink;

NOIPA void hit(long i) { sink += i; }

int main(int argc, char **argv)
{
	long n = arg_long(argc, argv, 1, 1000);
	bench_start();
	for (int round = 0; round < 2; round++)
		for (long i = 0; i < n; i++)
			hit(i);
	bench_end();
	return 0;
}
