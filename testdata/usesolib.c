/* usesolib: a program linked with the tests' shared library (solib.c,
 * given to gcc by its path, so that the program loads it from there). */
#include <stdio.h>

int solib_add(int a, int b);

int main(void)
{
	int r = solib_add(2, 3);

	printf("solib_add=%d\n", r);
	fflush(stdout);
	return r == 5 ? 0 : 1;
}
