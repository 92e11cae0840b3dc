/* vecwatch KIND: writes two 16 KiB buffers (an XSAVE image with AMX
 * takes 11 KiB), one, then two, the same way with the instruction kind
 * KIND, three times (or once per size), then calls done(). Each pass
 * stores the same values (but for xsaveopt). The test watches bytes of
 * one buffer in hardware and the same bytes of the other in software:
 * both must see the same writes.
 * Nothing else reads or writes the buffers after ready().
 *
 *   mask      vmovdqu8 %zmm0, dst{k1}, k1 = 0x00ff00000000f0f0 (holes)
 *   zeromask  vmovdqu8 %zmm0, dst{k1}, k1 = 0: no byte
 *   compress  vpcompressd %zmm0, dst{k1}, k1 = 0x0f0f: bytes 0-31
 *   maskmov   maskmovdqu to dst, mask bytes 0-3 and 8: which others the
 *             debug hardware sees is the vendor's
 *   movsb     rep movsb, 1024 bytes
 *   stosq     rep stosq, 128 quadwords
 *   xsave     xsave64 to dst (every component XCR0 enables)
 *   xsaveopt  xsaveopt64 to dst, vector registers changed each time
 *   memcpy    glibc memcpy(dst, src, n) for sizes 1-64 and around
 *             powers of two up to 4096 (82 sizes)
 *   memset    glibc memset(dst, c, n), the same sizes
 *
 * The AVX-512 and XSAVE kinds run only where the test found them in
 * CPUID; this program does not check.
 */
#include <stdlib.h>
#include <string.h>

unsigned char dst1[16384] __attribute__((aligned(4096)));
unsigned char dst2[16384] __attribute__((aligned(4096)));
unsigned char src[8192] __attribute__((aligned(4096)));
static unsigned long long kmask;
volatile long calls; /* how many times the kind ran on each buffer */

__attribute__((noinline)) void ready(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

static const unsigned char maskbytes[16] __attribute__((aligned(16))) = {
	0x80, 0x80, 0x80, 0x80, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0,
};

/* One write of dst with kind, the iteration's data in src. */
static void write_once(const char *kind, unsigned char *dst, size_t n) {
	if (!strcmp(kind, "mask") || !strcmp(kind, "zeromask"))
		__asm__ volatile("vmovdqu8 (%1), %%zmm0; kmovq %2, %%k1; vmovdqu8 %%zmm0, (%0)%{%%k1%}"
				 :: "r"(dst), "r"(src), "m"(kmask) : "xmm0", "memory");
	else if (!strcmp(kind, "compress"))
		__asm__ volatile("vmovdqu8 (%1), %%zmm0; kmovq %2, %%k1; vpcompressd %%zmm0, (%0)%{%%k1%}"
				 :: "r"(dst), "r"(src), "m"(kmask) : "xmm0", "memory");
	else if (!strcmp(kind, "maskmov"))
		__asm__ volatile("movdqu (%1), %%xmm0; movdqa (%2), %%xmm1; maskmovdqu %%xmm1, %%xmm0"
				 :: "D"(dst), "r"(src), "r"(maskbytes) : "xmm0", "xmm1", "memory");
	else if (!strcmp(kind, "movsb")) {
		size_t c = 1024;
		const unsigned char *s = src;
		__asm__ volatile("rep movsb" : "+D"(dst), "+S"(s), "+c"(c) :: "memory");
	} else if (!strcmp(kind, "stosq")) {
		size_t c = 128;
		unsigned long long v = src[0] * 0x0101010101010101ull;
		__asm__ volatile("rep stosq" : "+D"(dst), "+c"(c) : "a"(v) : "memory");
	} else if (!strcmp(kind, "xsave") || !strcmp(kind, "xsaveopt")) {
		/* New values in xmm0 and ymm0's upper half each time (and in
		 * the AVX-512 registers when XCR0 has them, by the test's
		 * choice of kind), so that every component written changes. */
		__asm__ volatile("vmovdqu (%0), %%ymm0" :: "r"(src) : "xmm0");
		if (!strcmp(kind, "xsave"))
			__asm__ volatile("xsave64 (%0)" :: "r"(dst), "a"(-1), "d"(-1) : "memory");
		else
			__asm__ volatile("xsaveopt64 (%0)" :: "r"(dst), "a"(-1), "d"(-1) : "memory");
	} else if (!strcmp(kind, "memcpy")) {
		void *(*volatile cp)(void *, const void *, size_t) = memcpy;
		cp(dst, src, n);
	} else if (!strcmp(kind, "memset")) {
		void *(*volatile set)(void *, int, size_t) = memset;
		set(dst, src[0], n);
	}
}

int main(int argc, char **argv) {
	const char *kind = argc > 1 ? argv[1] : "mask";
	if (!strcmp(kind, "mask"))
		kmask = 0x00ff00000000f0f0ull;
	else if (!strcmp(kind, "compress"))
		kmask = 0x0f0f;
	static const size_t sizes[] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
		25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46,
		47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 95, 96, 97,
		127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1024, 2047, 2048, 4096,
	};
	int sized = !strcmp(kind, "memcpy") || !strcmp(kind, "memset");
	int n = sized ? sizeof sizes / sizeof sizes[0] : 3;
	/* Every pass stores the same values, so that only an exact account
	 * of the instruction (not a comparison of values) sees the stores
	 * after the first; but XSAVEOPT, which may skip state that did not
	 * change, gets new register values each time. */
	int vary = !strcmp(kind, "xsaveopt");
	ready();
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < 64; j++)
			src[j] = (unsigned char)(vary * i * 37 + j + 1);
		write_once(kind, dst1, sized ? sizes[i] : 0);
		write_once(kind, dst2, sized ? sizes[i] : 0);
		calls++;
	}
	done();
	return 0;
}
