/* bench MODE ITERS: the benchmark (issue 7). A compute loop of
 * ITERS iterations (about 10 instructions each, so ITERS=100000 is 10^6
 * instructions) that writes the watched variable g WRITES times (default
 * 200), spread evenly.
 *   alone:  g alone on its page;
 *   shared: g shares its page with hot[], which every iteration updates.
 *   native: as alone, for timing without a debugger.
 * The region between bench_start() and bench_end() is timed by the
 * program itself (bench_ns=), with the clock read outside it: a tracer
 * that single-steps must not step through clock_gettime. It prints
 * bench_ns=N writes=W checksum=X. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct alone {
	volatile long g;
	char pad[4096 - sizeof(long)];
} __attribute__((aligned(4096)));
struct shared {
	volatile long g;
	long hot[64];
} __attribute__((aligned(4096)));

struct alone alone;
struct shared shared;
volatile long writes;

__attribute__((noipa)) void bench_start(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noipa)) void bench_end(void) { __asm__ volatile("" ::: "memory"); }

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "alone";
	long iters = argc > 2 ? atol(argv[2]) : 100000;
	long nw = argc > 3 ? atol(argv[3]) : 200;
	long every = iters / nw > 0 ? iters / nw : 1;
	int hot = !strcmp(mode, "shared");
	volatile long *gp = hot ? &shared.g : &alone.g;
	unsigned long x = 1, sum = 0;
	long long t0 = now_ns();
	bench_start();
	for (long i = 0, k = 0; i < iters; i++) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		sum += x >> 33;
		if (hot)
			shared.hot[i & 63] += x >> 40;
		if (++k == every) {
			k = 0;
			*gp = x;
			writes++;
		}
	}
	bench_end();
	long long t1 = now_ns();
	printf("bench_ns=%lld writes=%ld checksum=%lu\n", t1 - t0, (long)writes, sum + shared.hot[5]);
	return 0;
}
