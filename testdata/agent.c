/* agent: breakpoint conditions and dprintf evaluated by the server (agent
 * expressions): f is called with i = 0 .. n-1 (argv[1], default 200) on
 * counters of several C types. */
#include <stdlib.h>

struct counter {
	int count;
	unsigned char flags;
	signed char delta;
	short s;
	unsigned int bits : 5;
	int sbits : 11;
	long long big;
	unsigned long long ubig;
	const char *name;
};

struct counter counters[4];
volatile int flag;
const char *label = "agent";
long total;

__attribute__((noinline)) void f(int i, struct counter *s)
{
	total += i + s->count;
}

int main(int argc, char **argv)
{
	static const char *names[4] = {"zero", "one", "two", "three"};
	long n = argc > 1 ? atol(argv[1]) : 200;

	for (int i = 0; i < n; i++) {
		struct counter *s = &counters[i & 3];
		s->count++;
		s->flags = (unsigned char)(i * 7);
		s->delta = (signed char)(-i);
		s->s = (short)(i * 1000);
		s->bits = i;
		s->sbits = -i;
		s->big = -(long long)i * 1000000007LL;
		s->ubig = (unsigned long long)i << 40;
		s->name = names[i & 3];
		flag = (i % 5) == 0;
		f(i, s);
	}
	return 0;
}
