/* tls_dl: a library loaded with dlopen, with a thread-local variable. */
__thread long dl_tls = 7;

long *dl_tls_addr(long v)
{
	dl_tls = v;
	return &dl_tls;
}
