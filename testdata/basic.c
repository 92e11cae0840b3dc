/* basic: functions, globals, a struct, output, and an exit code from
 * argv[1]. Used for break/continue/step/finish/print/set var/bt. */
#include <stdio.h>
#include <stdlib.h>

int counter;
struct point {
	int x, y;
} origin = {1, 2};

int add(int a, int b)
{
	return a + b;
}

int square(int v)
{
	int r = v * v;
	return r;
}

int main(int argc, char **argv)
{
	int code = argc > 1 ? atoi(argv[1]) : 0;
	__asm__ volatile("movq %0, %%xmm0" : : "r"(0x600dcafe5eedULL) : "xmm0"); /* xmm0 for TestInfoRegisters, in add */
	counter = add(2, 3);
	counter = square(counter);
	printf("counter=%d origin=%d,%d\n", counter, origin.x, origin.y);
	fflush(stdout);
	return code;
}
