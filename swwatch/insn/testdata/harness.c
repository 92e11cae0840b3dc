// harness.c: the tracee of hwcheck_test.go. It maps one region below 2 GiB
// (so that 0x67-prefixed, 32-bit addresses reach it), reports its address
// in RAX at an int3 stop, and never runs its own code again: the tracer
// writes each instruction under test into the region, sets the registers
// and single-steps it.
#define _GNU_SOURCE
#include <sys/mman.h>

int main(void) {
	void *r = mmap(0, 0x20000, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (r == MAP_FAILED)
		return 2;
	__asm__ volatile("int3" : : "a"(r));
	return 0;
}
