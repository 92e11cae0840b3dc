/* fork MODE: after ready() (where the test watches g, alone on its
 * page), the program writes g, then starts a child that writes g and
 * exits 0 (MODE fork: fork(2); vfork: vfork(2) then _exit after the
 * write; spawn: posix_spawn of /bin/true, which shares the memory until
 * the exec), waits for it, writes g again, and records the child's
 * status in status. */
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
volatile long g __attribute__((aligned(4096)));
volatile int status = -1;

__attribute__((noinline)) void ready(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void done(void) { __asm__ volatile("" ::: "memory"); }

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "fork";
	ready();
	g = 1;
	pid_t pid = -1;
	if (!strcmp(mode, "fork")) {
		pid = fork();
		if (pid == 0) {
			g = 100;
			_exit(g == 100 ? 0 : 1);
		}
	} else if (!strcmp(mode, "vfork")) {
		pid = vfork();
		if (pid == 0)
			_exit(0);
	} else if (!strcmp(mode, "spawn")) {
		char *args[] = {"true", 0};
		posix_spawn(&pid, "/bin/true", 0, 0, args, environ);
	}
	int st;
	waitpid(pid, &st, 0);
	status = st;
	g = 2;
	done();
	return 0;
}
