/* leave: a program a debugger attaches to and that must run on, whole,
 * after the server leaves. It waits to be traced, then waits to be
 * traced no more; only then does it write w[0..4] and call tick(), the
 * variables and the function a debugger watched and broke on. A debug
 * register left armed or a breakpoint instruction left in tick() kills
 * it with SIGTRAP, a page protection left by a software watchpoint with
 * SIGSEGV; whole, it prints "free" and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long w[5];

void tick(void)
{
}

/* tracer returns the TracerPid of /proc/self/status. */
static int tracer(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/status", "r");
	int pid = -1;

	if (f == NULL)
		exit(2);
	while (fgets(buf, sizeof buf, f) != NULL)
		if (strncmp(buf, "TracerPid:", 10) == 0)
			pid = atoi(buf + 10);
	fclose(f);
	return pid;
}

int main(void)
{
	struct timespec ts = {0, 1000000};

	printf("pid %d ready\n", (int)getpid());
	fflush(stdout);
	while (tracer() == 0)
		nanosleep(&ts, NULL);
	printf("traced\n");
	fflush(stdout);
	while (tracer() != 0)
		nanosleep(&ts, NULL);
	for (int i = 0; i < 5; i++)
		w[i] = i + 1;
	tick();
	printf("free\n");
	return 0;
}
