// cpuid.c prints what CPUID and XGETBV say, in the words of
// x86cpu_test.go: the vendor, family and model, the raw feature words
// the package reads, and for each XSAVE state component >= 2 the CPU
// supports its size, standard-format offset and flags (CPUID leaf 0xD).
// A second source for the Go code: the compiler's <cpuid.h>.
#include <stdio.h>
#include <cpuid.h>

int main(void) {
	unsigned a, b, c, d, max0;
	__cpuid(0, max0, b, c, d);
	printf("vendor %.4s%.4s%.4s\n", (char *)&b, (char *)&d, (char *)&c);
	__cpuid(1, a, b, c, d);
	unsigned fam = a >> 8 & 0xf, model = a >> 4 & 0xf;
	if (fam == 0xf)
		fam += a >> 20 & 0xff;
	if (fam >= 6)
		model |= (a >> 16 & 0xf) << 4;
	printf("family %u model %u\n", fam, model);
	printf("leaf1 %u %u\n", c, d);
	int osxsave = c >> 27 & 1, xsave = c >> 26 & 1;
	__cpuid_count(7, 0, a, b, c, d);
	printf("leaf7 %u %u %u\n", b, c, d);
	unsigned long long xcr0 = 0;
	if (osxsave) {
		unsigned lo, hi;
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		xcr0 = (unsigned long long)hi << 32 | lo;
	}
	printf("xcr0 %llu\n", xcr0);
	if (max0 >= 0xd && xsave) {
		__cpuid_count(0xd, 0, a, b, c, d);
		unsigned long long user = (unsigned long long)d << 32 | a;
		__cpuid_count(0xd, 1, a, b, c, d);
		printf("leafd1 %u\n", a);
		unsigned long long all = user | (unsigned long long)d << 32 | c;
		for (int i = 2; i < 64; i++) {
			if (!(all >> i & 1))
				continue;
			__cpuid_count(0xd, i, a, b, c, d);
			printf("component %d %u %u %u\n", i, a, b, c);
		}
	}
	return 0;
}
