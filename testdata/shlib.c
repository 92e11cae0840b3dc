/* shlib: a program linked with a shared library of its own
 * (shlib_lib.c): it calls shlib_triple() once and prints the result. */
#include <stdio.h>

extern int shlib_triple(int);
extern long shlib_calls;

int main(void)
{
	int v = shlib_triple(14);

	printf("shlib %d %ld\n", v, shlib_calls);
	return 0;
}
