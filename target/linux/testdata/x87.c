/* x87: loads four x87 values and a ymm register, then raises SIGTRAP.
   The expected register values are what gdb 13 shows for this program
   under GNU gdbserver (maint print raw-registers). */
#include <signal.h>

double d = 3.5;

int main(void) {
	__asm__ volatile("fld1; fldpi; fldz; fldl %0" ::"m"(d));
#ifdef __AVX__
	__asm__ volatile("vmovdqu %0, %%ymm2" ::"m"(*(const char(*)[32]) "0123456789abcdefghijklmnopqrstuv") : "xmm2");
#endif
	raise(SIGTRAP);
	return 0;
}
