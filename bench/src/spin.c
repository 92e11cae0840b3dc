/* spin N: a straight loop of N iterations between bench_start() and
 * bench_end().  connect uses it stopped at its entry; stepi single-steps
 * the loop. */
#include "bench.h"

volatile long counter;

int main(int argc, char **argv)
{
	long n = arg_long(argc, argv, 1, 1000);
	bench_start();
	for (long i = 0; i < n; i++)
		counter += i;
	bench_end();
	return 0;
}
