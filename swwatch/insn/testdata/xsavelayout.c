// xsavelayout.c prints XCR0 and, for each state component it enables,
// CPUID.(EAX=0DH,ECX=i): size, standard-format offset, and ECX (bit 1:
// 64-byte aligned in the compacted format). TestXSaveLayoutCPUID compares
// them with the table in xsave.go.
#include <stdio.h>
#include <cpuid.h>

int main(void) {
	unsigned a, b, c, d, lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	unsigned long long xcr0 = ((unsigned long long)hi << 32) | lo;
	printf("xcr0 %llu\n", xcr0);
	for (int i = 2; i < 64; i++) {
		if (!(xcr0 >> i & 1))
			continue;
		__cpuid_count(0xd, i, a, b, c, d);
		printf("component %d %u %u %u\n", i, a, b, c);
	}
	return 0;
}
