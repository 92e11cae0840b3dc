// vector.c: loops gcc vectorises at -O2/-O3 with -mavx2 or -mavx512f,
// including a gather (indexed load) and a masked tail.
#include <stdio.h>

#define N 203
static float x[N], y[N], z[N];
static int idx[N], out[N];
static int tab[512];

__attribute__((noinline)) void saxpy(float a, const float *xs, float *ys, int n) {
	for (int i = 0; i < n; i++)
		ys[i] = a * xs[i] + ys[i];
}

__attribute__((noinline)) void gather(const int *t, const int *ix, int *o, int n) {
	for (int i = 0; i < n; i++)
		o[i] = t[ix[i]] + 1;
}

__attribute__((noinline)) void clampadd(float *o, const float *a, const float *b, int n) {
	for (int i = 0; i < n; i++) {
		float s = a[i] + b[i];
		o[i] = s > 100 ? 100 : s;
	}
}

int main(void) {
	for (int i = 0; i < N; i++) {
		x[i] = i;
		y[i] = 2 * i;
		idx[i] = (i * 37) % 512;
	}
	for (int i = 0; i < 512; i++)
		tab[i] = i * i;
	saxpy(1.5f, x, y, N);
	gather(tab, idx, out, N);
	clampadd(z, x, y, N);
	printf("%g %d %g\n", y[N - 1], out[N - 1], z[7]);
	return 0;
}
