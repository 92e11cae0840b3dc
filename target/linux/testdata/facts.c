/* facts: a program for what the system says about a process. It is
   linked with a shared library of its own (facts_lib.c), starts a thread
   that names itself "facts-worker", then, as its arguments say, takes ids
   of its own ("ids": real, effective and saved all different) or chroots
   ("chroot DIR"), and raises SIGUSR1 at every resume. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

extern int facts_lib_triple(int);

long facts_counter;
long facts_table[8];

static pthread_barrier_t named;

static void *worker(void *arg) {
	pthread_setname_np(pthread_self(), "facts-worker");
	pthread_barrier_wait(&named);
	for (;;)
		pause();
	return arg;
}

int main(int argc, char **argv) {
	pthread_t t;
	pthread_barrier_init(&named, 0, 2);
	pthread_create(&t, 0, worker, 0);
	pthread_barrier_wait(&named);
	facts_counter = facts_lib_triple(1);
	facts_table[1] = facts_counter;
	if (argc > 1 && strcmp(argv[1], "ids") == 0 &&
	    (setresgid(101, 102, 103) != 0 || setresuid(1001, 1002, 1003) != 0))
		return 2;
	if (argc > 2 && strcmp(argv[1], "chroot") == 0 && (chroot(argv[2]) != 0 || chdir("/") != 0))
		return 3;
	for (;;)
		raise(SIGUSR1);
}
