// structs.c: struct copies (memcpy, assignment), pointer chasing, bit fields.
#include <stdio.h>
#include <string.h>

struct rec {
	long id;
	char name[40];
	double v[5];
	unsigned flags : 3, kind : 5;
	struct rec *next;
};

static struct rec pool[8];

__attribute__((noinline)) void copy(struct rec *dst, const struct rec *src) { memcpy(dst, src, sizeof *dst); }

__attribute__((noinline)) struct rec pass(struct rec r) {
	r.id++;
	r.kind = 7;
	return r;
}

int main(void) {
	for (int i = 0; i < 8; i++) {
		pool[i].id = i;
		snprintf(pool[i].name, sizeof pool[i].name, "record-%d", i);
		pool[i].v[i % 5] = i * 1.5;
		pool[i].flags = i & 7;
		pool[i].next = i < 7 ? &pool[i + 1] : NULL;
	}
	struct rec tmp;
	copy(&tmp, &pool[3]);
	tmp = pass(tmp);
	pool[0] = tmp;
	long s = 0;
	for (struct rec *r = pool; r; r = r->next)
		s += r->id + r->kind;
	printf("%ld %s\n", s, pool[0].name);
	return 0;
}
