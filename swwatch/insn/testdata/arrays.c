// arrays.c: loops over arrays of several element types.
#include <stdio.h>

#define N 64
static int ia[N];
static long la[N];
static short sa[N];
static unsigned char ca[N];

__attribute__((noinline)) long sum(const int *a, int n) {
	long s = 0;
	for (int i = 0; i < n; i++)
		s += a[i];
	return s;
}

__attribute__((noinline)) void scale(long *a, int n, long k) {
	for (int i = 0; i < n; i++)
		a[i] = a[i] * k + i;
}

__attribute__((noinline)) int count_odd(const short *a, int n) {
	int c = 0;
	for (int i = 0; i < n; i++)
		c += a[i] & 1;
	return c;
}

__attribute__((noinline)) void reverse(unsigned char *a, int n) {
	for (int i = 0, j = n - 1; i < j; i++, j--) {
		unsigned char t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

int main(void) {
	for (int i = 0; i < N; i++) {
		ia[i] = i * 3 - 7;
		la[i] = i;
		sa[i] = (short)(i * 5);
		ca[i] = (unsigned char)i;
	}
	scale(la, N, 3);
	reverse(ca, N);
	printf("%ld %ld %d %d\n", sum(ia, N), la[N - 1], count_odd(sa, N), ca[0]);
	return 0;
}
