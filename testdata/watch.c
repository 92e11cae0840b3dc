/* watch: programs for hardware breakpoints and watchpoints. argv[1]
 * picks one; each touches its variables a known number of times, then
 * calls done(). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char c1;
short s2;
int i4;
long l8;
struct {
	char pad[5];
	char bytes[4]; /* at an odd address: not aligned to 4 */
} __attribute__((packed)) odd;
struct rec {
	int head;
	char name[12]; /* a 12-byte field */
	int tail;
} rec;
int arr[8]; /* 32 bytes */

volatile int g;
struct {
	int a, b; /* one 8-byte store covers both */
} __attribute__((aligned(8))) pair;
char buf[64];
long w[5];

pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void done(void)
{
}

void after_watch(void)
{
}

static void sizes(void)
{
	for (int i = 1; i <= 3; i++) {
		c1 = i;
		s2 = i;
		i4 = i;
		l8 = i;
		odd.bytes[1] = i;
		rec.name[6] = i;
		arr[7] = i;
	}
}

/* rw: 3 plain reads, 2 stores of the value already there (each reads g
 * first), 1 store of a new value. */
static void rw(void)
{
	int sum = 0;

	g = 1;
	after_watch();
	for (int i = 0; i < 3; i++)
		sum += g;
	for (int i = 0; i < 2; i++)
		g = g;
	g = sum;
}

static void pairs(void)
{
	*(volatile int64_t *)&pair = 0x0000000200000001;
}

/* syscall: the kernel writes into buf (read(2)); no instruction of the
 * program does. */
static void syscall_write(void)
{
	int fd[2];

	if (pipe(fd) != 0 || write(fd[1], "hello", 5) != 5)
		exit(2);
	after_watch();
	if (read(fd[0], buf, 5) != 5)
		exit(3);
}

/* pipe5: read(2) from a pipe stores 101..105 into kv[0..4], one call
 * each: the kernel writes, no instruction of the program does. Five
 * watchpoints on them hold the four slots and one emulated watchpoint
 * on the same page; kfar is a variable on a page of its own. */
long kv[8];
long kfar[512] __attribute__((aligned(4096)));

static void pipe5(int far)
{
	int fd[2];

	if (pipe(fd) != 0)
		exit(2);
	after_watch();
	for (int i = 0; i < 5; i++) {
		long x = 101 + i;
		long *dst = far && i == 4 ? &kfar[0] : &kv[i];

		if (write(fd[1], &x, sizeof x) != sizeof x || read(fd[0], dst, sizeof x) != sizeof x)
			exit(3);
	}
}

/* writer: thread number n (1-8) stores 10n+1, 10n+2, 10n+3 into g, one
 * store at a time under a mutex, so a debugger can tell who wrote. */
static void *writer(void *arg)
{
	long n = (long)arg;

	for (int j = 1; j <= 3; j++) {
		pthread_mutex_lock(&mu);
		g = (int)(10 * n + j);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* threads: g is written 3 times by each of 8 threads created after the
 * watchpoint was set. */
static void threads(void)
{
	pthread_t t[8];

	after_watch();
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, writer, (void *)(i + 1));
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
}

static void five(void)
{
	for (int i = 0; i < 5; i++)
		w[i] = i + 1;
}

long mw[4];		/* written 3 times each */
long mr[2] = {5, 6};	/* read 3 times each */
long ma[2];		/* read 3 times, written 3 times each */
volatile long sink;

/* mixed: eight variables for eight watchpoints of mixed kinds. */
static void mixed(void)
{
	for (int i = 1; i <= 3; i++) {
		for (int j = 0; j < 4; j++)
			mw[j] = i;
		sink = mr[0] + mr[1];
		ma[0] = ma[0] + 1;
		ma[1] = ma[1] + 1;
	}
}

/* loop: g written n times (argv[2]), for conditions and counts. */
static void loop(int n)
{
	for (int i = 1; i <= n; i++)
		g = i;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "sizes";

	if (strcmp(what, "sizes") == 0)
		sizes();
	else if (strcmp(what, "rw") == 0)
		rw();
	else if (strcmp(what, "pair") == 0)
		pairs();
	else if (strcmp(what, "syscall") == 0)
		syscall_write();
	else if (strcmp(what, "pipe5") == 0)
		pipe5(0);
	else if (strcmp(what, "pipe5far") == 0)
		pipe5(1);
	else if (strcmp(what, "threads") == 0)
		threads();
	else if (strcmp(what, "five") == 0)
		five();
	else if (strcmp(what, "mixed") == 0)
		mixed();
	else if (strcmp(what, "loop") == 0)
		loop(argc > 2 ? atoi(argv[2]) : 10);
	else
		return 2;
	done();
	return 0;
}
