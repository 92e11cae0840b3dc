/* facts_lib: the shared library of facts.c, linked by its path. */
long facts_lib_calls;

int facts_lib_triple(int x) {
	facts_lib_calls++;
	return 3 * x;
}
