/* faultloop: reads a PROT_NONE page for ever, at fault_insn, a 3-byte
 * instruction (mov (%rax),%rcx), so that a tracer can skip it: every
 * round raises SIGSEGV. */
#include <sys/mman.h>

volatile long rounds;

int main(void)
{
	char *pg = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (;;) {
		__asm__ volatile(".globl fault_insn\nfault_insn: movq (%0), %%rcx\n" : : "a"(pg) : "rcx", "memory");
		rounds++;
	}
}
