/* forkexec: forks a child that calls tick(), vforks one that execs
   /bin/true, calls tick() and writes g itself, then execs itself with
   "exec", where it writes g again and exits 7. The parent exits 100+ if a
   child did not exit cleanly (a breakpoint left in a child kills it). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long g;

__attribute__((noinline)) void tick(void) { g++; }

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		g = 2;
		return 7;
	}
	int st;
	pid_t c = fork();
	if (c == 0) {
		tick();
		_exit(0);
	}
	waitpid(c, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 50);
	c = vfork();
	if (c == 0) {
		execl("/bin/true", "true", (char *)0);
		_exit(3);
	}
	waitpid(c, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 60);
	tick();
	g = 1;
	execl("/proc/self/exe", argv[0], "exec", (char *)0);
	return 99;
}
