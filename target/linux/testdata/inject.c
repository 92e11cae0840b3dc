/* inject: "pipe": makes a pipe (fds 3 and 4), reads one byte from it and
   calls got(bytes read * 1000 + the byte). Otherwise: calls
   got(getppid()) for ever. */
#include <sys/syscall.h>
#include <unistd.h>

volatile long result;

__attribute__((noinline)) void got(long v) { result = v; }

int main(int argc, char **argv) {
	if (argc > 1 && argv[1][0] == 'p') {
		int fds[2];
		char c = 0;
		pipe(fds);
		long n = read(fds[0], &c, 1);
		got(n * 1000 + c);
		return 0;
	}
	for (;;)
		got(syscall(SYS_getppid));
}
