/* shlib_lib: the shared library of shlib.c, linked by its path. */
long shlib_calls;

int shlib_triple(int x)
{
	shlib_calls++;
	return 3 * x;
}
