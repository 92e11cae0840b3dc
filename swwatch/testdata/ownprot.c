/* ownprot: a program that changes the protection of watched pages
 * itself and handles its own SIGSEGVs. The test watches g (on page pg,
 * beside other) and q[0] (an mmapped page). After ready():
 *   1. g = 1;
 *   2. mprotect(pg, READ); other = 5: a fault of the program's, whose
 *      handler makes pg writable again, and the store is retried;
 *   3. g = 2;
 *   4. q[0] = 1; munmap(q); q[0] = 2: a fault (unmapped), whose handler
 *      maps the page again at the same address; the store is retried;
 *   5. mprotect(pg, NONE); sink = g: a fault on the watched variable
 *      itself, the program's own; the handler makes pg writable;
 *   6. g = 3.
 * The handler counts its faults and their addresses in faults[]. */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct page {
	volatile long g;
	char pad[56];
	volatile long other;
	char pad2[4096 - 72];
} __attribute__((aligned(4096)));
struct page pg;
volatile long *q;
volatile long sink;
volatile long nfaults;
volatile unsigned long faults[8];

__attribute__((noinline)) void ready(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

static void handler(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	unsigned long a = (unsigned long)si->si_addr;
	faults[nfaults++ & 7] = a;
	if (a >= (unsigned long)&pg && a < (unsigned long)&pg + 4096)
		mprotect(&pg, 4096, PROT_READ | PROT_WRITE);
	else
		mmap((void *)(a & ~4095UL), 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, 0);
	q = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ready();
	pg.g = 1;
	mprotect(&pg, 4096, PROT_READ);
	pg.other = 5;
	pg.g = 2;
	q[0] = 1;
	munmap((void *)q, 4096);
	q[0] = 2;
	mprotect(&pg, 4096, PROT_NONE);
	sink = pg.g;
	pg.g = 3;
	done();
	return 0;
}
