// strings.c: libc string functions and a hand-written string loop.
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

__attribute__((noinline)) size_t my_strlen(const char *s) {
	const char *p = s;
	while (*p)
		p++;
	return p - s;
}

int main(void) {
	char buf[256], other[256];
	strcpy(buf, "the quick brown fox jumps over the lazy dog");
	memset(other, 'x', sizeof other);
	other[255] = 0;
	strcat(buf, " again");
	char *dup = strdup(buf);
	int c = strcmp(buf, dup) + (strchr(buf, 'z') - buf) + (int)strlen(other);
	memmove(buf + 4, buf, 20);
	printf("%d %zu %s\n", c, my_strlen(buf), dup + 4);
	free(dup);
	return 0;
}
