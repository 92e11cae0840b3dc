/* guard: maps a page, writes a marker in it, makes it PROT_NONE, stores
   its address in guarded, and raises SIGTRAP. */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

char *volatile guarded;

int main(void) {
	char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(p, "behind the guard");
	mprotect(p, 4096, PROT_NONE);
	guarded = p;
	raise(SIGTRAP);
	return 0;
}
