/* tls_lib: a shared library's thread-local variable, linked at start. */
__thread int lib_tls = 100;

int *lib_tls_addr(int v)
{
	lib_tls = v;
	return &lib_tls;
}
