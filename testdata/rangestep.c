/* rangestep: lines of many instructions for `next` and `step`, gdb's
 * range steps (vCont;r): a long line, a line that calls, a line with a
 * loop in it, and a breakpoint in the middle of a line's range. */
#include <stdio.h>

volatile long a, b, c, d;

__attribute__((noinline)) long triple(long x) { return 3 * x; }

__attribute__((noinline)) void mid(void) { d++; }

int main(void) {
	a = 1; b = 2; c = a + b; d = c * b + a * 7 - b; a = d ^ c; b = a + d * 3; /* long */
	c = triple(a) + triple(b); /* calls */
	for (long i = 0; i < 100; i++) d += i * a; /* loops */
	a = b + c; mid(); b = a - d; /* midbreak */
	printf("%ld %ld %ld %ld\n", a, b, c, d);
	return 0;
}
