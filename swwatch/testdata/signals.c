/* signals N: a watched local variable of f(), on the stack, and a
 * SIGUSR1 handler whose signal frame the kernel writes on the same page,
 * below it. main places f's frame at the middle of a page, so that the
 * frame lands on the watched page. f(i) writes local[0] = i, raises
 * SIGUSR1, writes local[0] = i + 100; N calls. The test sets its watch
 * at ready() (called by f(0) after its first write), through vaddr. The
 * handler counts in hcount. */
#include <alloca.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

volatile long *volatile vaddr;
volatile long hcount;

__attribute__((noinline)) void ready(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

static void handler(int sig) {
	(void)sig;
	hcount++;
}

__attribute__((noinline)) void f(long i) {
	volatile long local[4];
	local[0] = i;
	vaddr = &local[0];
	if (i == 0)
		ready();
	raise(SIGUSR1);
	local[0] = i + 100;
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 10;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, 0);
	uintptr_t off = (uintptr_t)__builtin_frame_address(0) & 4095;
	volatile char *pad = alloca(off >= 2048 ? off - 2048 : off + 2048);
	pad[0] = 0;
	for (long i = 0; i < n; i++)
		f(i);
	done();
	return 0;
}
