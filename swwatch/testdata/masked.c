/* masked MODE N: masked vector accesses to buf (alone on its page), N
 * times each, then done(). The mask has holes; every store writes the
 * same values each time, so only an exact table (not a value compare)
 * sees the stores after the first, and only an exact table keeps a
 * masked-out byte quiet.
 *
 *   store    vmovdqu8 %zmm0, buf{k1}, k1 = 0x0f0f...: bytes 0-3, 8-11, ...
 *   load     vmovdqu8 buf, %zmm0{k1}{z}, the same mask
 *   zero     vmovdqu8 %zmm0, buf{k1}, k1 = 0: nothing
 *   compress vpcompressd %zmm0, buf{k1}, k1 = 0x0505: dwords 0-3 (bytes 0-15)
 *   expand   vpexpandd buf, %zmm0{k1}, k1 = 0x8001: dwords 0-1 (bytes 0-7)
 *   maskmov  maskmovdqu to buf, mask bytes 0-3 set: what is watched of
 *            bytes 4-15 is the vendor's (Intel: all 16, AMD: 0-3)
 *
 * The AVX-512 modes need AVX512F and AVX512BW (the test asks CPUID).
 */
#include <stdlib.h>
#include <string.h>

unsigned char buf[4096] __attribute__((aligned(4096)));
static const unsigned char src[64] __attribute__((aligned(64))) = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
	49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64,
};
static const unsigned char mask16[16] __attribute__((aligned(16))) = {0x80, 0x80, 0x80, 0x80};
volatile long count;

__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "store";
	long n = argc > 2 ? atol(argv[2]) : 10;
	unsigned long long k = 0;
	if (!strcmp(mode, "store") || !strcmp(mode, "load"))
		k = 0x0f0f0f0f0f0f0f0full;
	else if (!strcmp(mode, "compress"))
		k = 0x0505;
	else if (!strcmp(mode, "expand"))
		k = 0x8001;
	for (long i = 0; i < n; i++) {
		if (!strcmp(mode, "store") || !strcmp(mode, "zero"))
			__asm__ volatile("kmovq %1, %%k1; vmovdqu8 (%2), %%zmm0; vmovdqu8 %%zmm0, %0%{%%k1%}"
					 : "=m"(*(unsigned char(*)[64])buf) : "m"(k), "r"(src) : "xmm0", "memory");
		else if (!strcmp(mode, "load"))
			__asm__ volatile("kmovq %0, %%k1; vmovdqu8 %1, %%zmm0%{%%k1%}%{z%}"
					 :: "m"(k), "m"(*(unsigned char(*)[64])buf) : "xmm0");
		else if (!strcmp(mode, "compress"))
			__asm__ volatile("kmovq %1, %%k1; vmovdqu8 (%2), %%zmm0; vpcompressd %%zmm0, %0%{%%k1%}"
					 : "=m"(*(unsigned char(*)[64])buf) : "m"(k), "r"(src) : "xmm0", "memory");
		else if (!strcmp(mode, "expand"))
			__asm__ volatile("kmovq %0, %%k1; vpexpandd %1, %%zmm0%{%%k1%}"
					 :: "m"(k), "m"(*(unsigned char(*)[64])buf) : "xmm0");
		else if (!strcmp(mode, "maskmov"))
			__asm__ volatile("movdqu (%1), %%xmm0; movdqa (%2), %%xmm1; maskmovdqu %%xmm1, %%xmm0"
					 :: "D"(buf), "r"(src), "r"(mask16) : "xmm0", "xmm1", "memory");
		count++;
	}
	done();
	return 0;
}
