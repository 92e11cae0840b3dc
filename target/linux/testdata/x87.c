/* x87: loads four x87 values and a ymm register, saves its own FXSAVE
   image (what this CPU stores of FIP, the address of the last x87
   instruction), then raises SIGTRAP. The expected register values are
   what gdb 13 shows for this program under GNU gdbserver (maint print
   raw-registers); FIP is what the CPU itself saved.

   With the argument "pending", a division by zero with the zero-divide
   exception unmasked leaves an x87 exception pending before the save:
   then every CPU stores FIP (AMD's FXSAVE and XSAVE store it only then,
   unless CPUID says they always do; Intel's always). */
#include <signal.h>
#include <string.h>

double d = 3.5, zero = 0;
unsigned long long last_x87; /* address of the last x87 instruction */
unsigned long long saved_fip; /* FIP of the program's own FXSAVE */
static unsigned char fx[512] __attribute__((aligned(16)));

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "pending") == 0) {
		unsigned short cw = 0x037f & ~0x4; /* ZM clear */
		__asm__ volatile("fldcw %1; fld1; 1: fdivl %2; lea 1b(%%rip), %0" : "=r"(last_x87) : "m"(cw), "m"(zero));
	} else {
		__asm__ volatile("fld1; fldpi; fldz; 1: fldl %1; lea 1b(%%rip), %0" : "=r"(last_x87) : "m"(d));
	}
#ifdef __AVX__
	__asm__ volatile("vmovdqu %0, %%ymm2" ::"m"(*(const char(*)[32]) "0123456789abcdefghijklmnopqrstuv") : "xmm2");
#endif
	__asm__ volatile("fxsave64 %0" : "=m"(fx));
	memcpy(&saved_fip, fx + 8, 8);
	raise(SIGTRAP);
	return 0;
}
