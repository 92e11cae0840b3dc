/* mem r BYTES: a heap buffer filled with buf[i] = (i*7+3) & 0xff, for gdb
 * to dump (any prefix can be checked byte for byte).
 * mem w BYTES: a zeroed heap buffer for gdb to fill between bench_start()
 * and bench_end() with buf[i] = (i*13+5) & 0xff; the program then counts
 * the wrong bytes into bad and calls verified(), where gdb reads bad. */
#include <string.h>
#include "bench.h"

unsigned char *buf;
long buf_size;
volatile long bad = -1;

NOIPA void verified(void) { __asm__ volatile("" ::: "memory"); }

int main(int argc, char **argv)
{
	char mode = argc > 1 ? argv[1][0] : 'r';
	buf_size = arg_long(argc, argv, 2, 1L << 20);
	buf = malloc(buf_size);
	if (!buf)
		return 1;
	for (long i = 0; i < buf_size; i++)
		buf[i] = mode == 'r' ? (unsigned char)(i * 7 + 3) : 0;
	bench_start();
	bench_end();
	if (mode == 'w') {
		long n = 0;
		for (long i = 0; i < buf_size; i++)
			n += buf[i] != (unsigned char)(i * 13 + 5);
		bad = n;
		verified();
	}
	return bad > 0;
}
