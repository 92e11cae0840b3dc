/* tls: thread-local variables of the program, of a library linked at
 * start (tls_lib.c) and of one loaded with dlopen (argv[1], tls_dl.c),
 * in the main thread and three more. Each thread i (0: main) sets them
 * to 10*i, 20*i and 30*i and records where they are, and its tid, in
 * addr[i]; thread 3 never touches dl_tls, so it has no block of the
 * dlopen'ed library.
 * dlopen comes after the threads are made. stop_here() is called with
 * every thread waiting, and raise(SIGUSR1) right after it. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 4

__thread int tls_var = 1;
__thread long tls_zero;

int *lib_tls_addr(int v);

struct where {
	int *var, *lib;
	long *dl, *zero;
	int tid;
} addr[THREADS];

static long *(*dl_tls_addr)(long);
static pthread_barrier_t loaded, set, done;

static void record(int i)
{
	tls_var = 10 * i;
	tls_zero = i;
	addr[i].tid = (int)syscall(SYS_gettid);
	addr[i].var = &tls_var;
	addr[i].zero = &tls_zero;
	addr[i].lib = lib_tls_addr(20 * i);
	if (i != 3 && dl_tls_addr)
		addr[i].dl = dl_tls_addr(30 * i);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;

	pthread_barrier_wait(&loaded);
	record(i);
	pthread_barrier_wait(&set);
	pthread_barrier_wait(&done);
	return NULL;
}

void stop_here(void) {}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];

	pthread_barrier_init(&loaded, NULL, THREADS);
	pthread_barrier_init(&set, NULL, THREADS);
	pthread_barrier_init(&done, NULL, THREADS);
	for (long i = 1; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	if (argc > 1) {
		void *h = dlopen(argv[1], RTLD_NOW);
		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		dl_tls_addr = (long *(*)(long))dlsym(h, "dl_tls_addr");
	}
	pthread_barrier_wait(&loaded);
	record(0);
	pthread_barrier_wait(&set);
	stop_here();
	raise(SIGUSR1);
	pthread_barrier_wait(&done);
	for (int i = 1; i < THREADS; i++)
		pthread_join(t[i], NULL);
	return 0;
}
