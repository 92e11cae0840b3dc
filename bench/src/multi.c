/* multi N K BYTES: one program for three debuggers at once.
 *
 * Each client sets its own flag (ready_w, ready_m, ready_s) once its
 * breakpoints and watchpoints are in; main waits for all three before it
 * starts, so no client misses the beginning.  Then:
 *   - thread B spins in spin_b() until b_done is set: the stepping client
 *     stops it at spin_b() and single-steps it;
 *   - main writes g N times (the watching client has `watch g`) and every
 *     K writes calls poll_point() with seq incremented (the polling client
 *     stops there and reads seq and BYTES of buf, filled with
 *     buf[i] = (i*7+3) & 0xff);
 *   - main calls bench_end() and waits for B. */
#include <pthread.h>
#include <unistd.h>
#include "bench.h"

volatile long g;
volatile long seq;
volatile long counter_b;
volatile int ready_w, ready_m, ready_s, b_done;
unsigned char *buf;

NOIPA void poll_point(long s) { __asm__ volatile("" :: "r"(s) : "memory"); }

NOIPA void *spin_b(void *p)
{
	while (!b_done)
		counter_b++;
	return p;
}

int main(int argc, char **argv)
{
	long n = arg_long(argc, argv, 1, 1000);
	long k = arg_long(argc, argv, 2, 10);
	long bytes = arg_long(argc, argv, 3, 65536);
	pthread_t b;
	buf = malloc(bytes);
	if (!buf || k < 1)
		return 1;
	for (long i = 0; i < bytes; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	while (!(ready_w && ready_m && ready_s))
		usleep(1000);
	bench_start();
	pthread_create(&b, NULL, spin_b, NULL);
	for (long i = 0; i < n; i++) {
		g = i + 1;
		if ((i + 1) % k == 0) {
			seq++;
			poll_point(seq);
		}
	}
	bench_end();
	pthread_join(b, NULL);
	return 0;
}
