/* loop: calls hit() n times (argv[1], default 10) in a loop, for
 * breakpoint, step and round-trip counts. */
#include <stdlib.h>

volatile long sink;

__attribute__((noinline)) void hit(long i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10;

	for (long i = 0; i < n; i++)
		hit(i);
	return 0;
}
