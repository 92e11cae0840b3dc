/* tforks: a thread forks children in a loop while main forks one, then
   main waits for all; `next` over main's fork while the other thread
   forks too. Exits 0 when every child exited 7. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
static int bad;
static void reap(pid_t c) {
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		bad = 1;
}
static void *forker(void *arg) {
	(void)arg;
	for (int i = 0; i < 20; i++) {
		pid_t c = fork();
		if (c == 0)
			_exit(7);
		reap(c);
	}
	return 0;
}
int main(void) {
	pthread_t t;
	pthread_create(&t, 0, forker, 0);
	pid_t c = fork(); /* next over this */
	if (c == 0)
		_exit(7);
	reap(c); /* after */
	pthread_join(t, 0);
	return bad;
}
