/* watchloop MODE N: MODE w writes the global g N times, each write a new
 * value; MODE r reads g N times (its value never changes); MODE 4 writes
 * each of w0..w3, four 8-byte-aligned longs, N times. */
#include "bench.h"

volatile long g = 12345;
volatile long sink;
volatile long w0 __attribute__((aligned(8)));
volatile long w1 __attribute__((aligned(8)));
volatile long w2 __attribute__((aligned(8)));
volatile long w3 __attribute__((aligned(8)));

int main(int argc, char **argv)
{
	char mode = argc > 1 ? argv[1][0] : 'w';
	long n = arg_long(argc, argv, 2, 1000);
	bench_start();
	switch (mode) {
	case 'r':
		for (long i = 0; i < n; i++)
			sink += g;
		break;
	case '4':
		for (long i = 0; i < n; i++) {
			w0 = i + 1;
			w1 = i + 1;
			w2 = i + 1;
			w3 = i + 1;
		}
		break;
	default:
		for (long i = 0; i < n; i++)
			g = i + 1;
	}
	bench_end();
	return 0;
}
