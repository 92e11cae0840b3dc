/* access MODE N: accesses watched globals N times, then calls done().
 * g sits alone on its page (alone.g); h shares a page with data written
 * all the time (shared.hot). Each mode counts its accesses in the
 * program's own counters, which the tests compare with the hits.
 *
 *   w    g = i + 1                       N writes (each a new value)
 *   same g = 7                           N writes of the same value
 *   r    sink += g                       N reads
 *   rmw  incq g (one instruction)        N read-modify-writes
 *   hot  h = i, with shared.hot written around it: N writes of h
 *   vec  16-byte struct v: movups stores     N writes
 *   memcpy 16-byte struct v: glibc memcpy  N calls (each one or more stores)
 *   vecr movups load of v                N reads
 *   mix  g = g + 1 as separate load and store: N reads and N writes
 *   bp   the store at label store_g, then tick(): N writes
 *   exec g = 1, then execve("/bin/true")
 *   wbig big.a[i * 511 % 131072] = i + 1: N writes spread over a 1 MiB array
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct alone {
	volatile long g;
	char pad[4096 - sizeof(long)];
} __attribute__((aligned(4096)));
struct shared {
	volatile long hot[16];
	volatile long h;
	volatile long hot2[16];
} __attribute__((aligned(4096)));
struct vec {
	long a, b;
} __attribute__((aligned(16)));

struct big {
	volatile long a[1 << 17];
} __attribute__((aligned(4096)));

struct alone alone;
struct shared shared;
struct big big;
struct vec v __attribute__((aligned(4096)));
volatile long sink;
volatile long count_w, count_r;

__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void tick(void) { __asm__ volatile("" ::: "memory"); }

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "w";
	long n = argc > 2 ? atol(argv[2]) : 100;
	if (!strcmp(mode, "w")) {
		for (long i = 0; i < n; i++)
			alone.g = i + 1;
		count_w = n;
	} else if (!strcmp(mode, "same")) {
		for (long i = 0; i < n; i++)
			alone.g = 7;
		count_w = n;
	} else if (!strcmp(mode, "r")) {
		for (long i = 0; i < n; i++)
			sink += alone.g;
		count_r = n;
	} else if (!strcmp(mode, "rmw")) {
		for (long i = 0; i < n; i++)
			__asm__ volatile("incq %0" : "+m"(alone.g));
		count_r = count_w = n;
	} else if (!strcmp(mode, "hot")) {
		for (long i = 0; i < n; i++) {
			for (int j = 0; j < 16; j++)
				shared.hot[j] += j;
			shared.h = i;
			shared.hot2[i & 15] = i;
		}
		count_w = n;
	} else if (!strcmp(mode, "vec")) {
		for (long i = 0; i < n; i++) {
			struct vec x = {i, -i};
			__asm__ volatile("movups %1, %0" : "=m"(v) : "x"(*(__attribute__((vector_size(16))) long *)&x));
		}
		count_w = n;
	} else if (!strcmp(mode, "memcpy")) {
		void *(*volatile cp)(void *, const void *, size_t) = memcpy;
		for (long i = 0; i < n; i++) {
			struct vec y = {i + 1, i + 2};
			cp((void *)&v, &y, sizeof y);
		}
		count_w = n;
	} else if (!strcmp(mode, "vecr")) {
		for (long i = 0; i < n; i++) {
			__attribute__((vector_size(16))) long x;
			__asm__ volatile("movups %1, %0" : "=x"(x) : "m"(v));
			sink += x[0];
		}
		count_r = n;
	} else if (!strcmp(mode, "bp")) {
		for (long i = 0; i < n; i++) {
			__asm__ volatile(".globl store_g\nstore_g: movq %1, %0" : "=m"(alone.g) : "r"(i + 1));
			tick();
		}
		count_w = n;
	} else if (!strcmp(mode, "exec")) {
		alone.g = 1;
		execl("/bin/true", "true", (char *)0);
		return 1;
	} else if (!strcmp(mode, "wbig")) {
		for (long i = 0; i < n; i++)
			big.a[i * 511 % (1 << 17)] = i + 1;
		count_w = n;
	} else if (!strcmp(mode, "mix")) {
		for (long i = 0; i < n; i++)
			alone.g = alone.g + 1;
		count_r = count_w = n;
	}
	done();
	return 0;
}
