/* clients: what the sessions of lldb and of gdb/MI go through, and the
 * program of the README's quick start for every client: named threads, a
 * function to call from the debugger, a global written, then read, then
 * read and written, calls into libc, and (with argument "wait") a loop
 * that runs until the debugger clears `waiting`, to interrupt. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int counter;              /* written by bump, read by peek */
volatile int waiting = 1; /* main loops while it is set ("wait") */
static pthread_barrier_t named, done;

int compute(int a, int b)
{
	return a * 10 + b;
}

void bump(int n)
{
	counter += n;
}

int peek(void)
{
	return counter;
}

/* ready is called once the worker has named itself. */
void ready(void)
{
}

static void *worker(void *name)
{
	pthread_setname_np(pthread_self(), name);
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&done);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int seen, result;

	pthread_barrier_init(&named, NULL, 2);
	pthread_barrier_init(&done, NULL, 2);
	pthread_create(&t, NULL, worker, "worker-1");
	pthread_barrier_wait(&named);
	ready();
	bump(1);        /* a write of counter */
	seen = peek();  /* a read */
	bump(seen);     /* a read, then a write */
	if (argc > 1 && strcmp(argv[1], "wait") == 0)
		while (waiting)
			usleep(1000);
	result = compute(4, 2);
	printf("counter=%d result=%d\n", counter, result);
	fflush(stdout);
	pthread_barrier_wait(&done);
	pthread_join(t, NULL);
	return 0;
}
