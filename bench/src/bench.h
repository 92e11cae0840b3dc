/* Shared by the benchmark programs.
 *
 * bench_start() and bench_end() are real, never-inlined functions: gdb puts
 * breakpoints on them to find the region it measures.  They are 16-byte
 * aligned (gcc -falign-functions=16, see bench.py), so a trap at one is
 * never mistaken for a trap at its neighbour (PC - 1).
 *
 * Nothing in these programs reads a clock: gdb times its own commands.  A
 * vDSO clock_gettime() inside a region that gdb single-steps would retry
 * its seqlock loop for as long as a clock tick lands inside it, which under
 * single-stepping is nearly always. */
#ifndef BENCH_H
#define BENCH_H
#include <stdlib.h>

#define NOIPA __attribute__((noipa))

NOIPA void bench_start(void) { __asm__ volatile("" ::: "memory"); }
NOIPA void bench_end(void) { __asm__ volatile("" ::: "memory"); }

static long arg_long(int argc, char **argv, int i, long dflt)
{
	return argc > i ? atol(argv[i]) : dflt;
}
#endif
