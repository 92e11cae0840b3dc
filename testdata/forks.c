/* forks: forks a child that calls child_work() and exits 3, waits for it,
   then vforks one that execs /bin/true, and says how each child ended (a
   breakpoint left in a child kills it with SIGTRAP). Exits 0 when both
   ended as they should, 1 otherwise. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int work;

__attribute__((noinline)) void child_work(void) { work++; }

static int report(const char *what, int st, int want) {
	if (WIFEXITED(st))
		printf("%s child: exited %d\n", what, WEXITSTATUS(st));
	else
		printf("%s child: killed by signal %d\n", what, WTERMSIG(st));
	fflush(stdout);
	return WIFEXITED(st) && WEXITSTATUS(st) == want;
}

int main(void) {
	int st, ok = 1;
	pid_t c = fork();
	if (c == 0) {
		child_work();
		_exit(3);
	}
	waitpid(c, &st, 0);
	ok &= report("fork", st, 3);
	c = vfork();
	if (c == 0) {
		execl("/bin/true", "true", (char *)0);
		_exit(4);
	}
	waitpid(c, &st, 0);
	ok &= report("vfork", st, 0);
	child_work();
	return ok ? 0 : 1;
}
