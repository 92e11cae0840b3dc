/* solib: a shared library of the tests' own (built with -shared -fPIC),
 * which usesolib links by its path: gdb must read it, as it reads ld.so
 * and libc, through vFile when its sysroot is "target:". */
int solib_calls;

int solib_add(int a, int b)
{
	solib_calls++;
	return a + b;
}
