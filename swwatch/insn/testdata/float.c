// float.c: float, double and long double arithmetic (SSE and x87).
#include <stdio.h>

__attribute__((noinline)) double poly(const double *c, int n, double x) {
	double r = 0;
	for (int i = n - 1; i >= 0; i--)
		r = r * x + c[i];
	return r;
}

__attribute__((noinline)) long double ext(long double a, long double b) { return a * b + a / b; }

__attribute__((noinline)) float dot(const float *a, const float *b, int n) {
	float s = 0;
	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

int main(void) {
	double c[6] = {1, -2, 3.5, 0.25, -1, 2};
	float a[16], b[16];
	for (int i = 0; i < 16; i++) {
		a[i] = i * 0.5f;
		b[i] = 16 - i;
	}
	long double e = ext(3.0L, 7.0L);
	printf("%g %Lg %g %d\n", poly(c, 6, 1.5), e, dot(a, b, 16), (int)(e * 100));
	return 0;
}
