/* vecregs MODE: loads known values into the vector registers, stops
 * twice at labels (the test's gdb reads and writes registers at the
 * first, single-steps one nop, reads them again at the second), stores
 * the registers back and checks them: the values it loaded, with the
 * test's writes applied. It exits 0 when every register holds what it
 * should, else 1 after naming each difference on stderr.
 *
 *   avx512  zmm0-31 (so xmm16-31 and ymm16-31 too) and k0-7; stops at
 *           z_stop1, z_stop2. The test writes zmm0 dword 3 = 7, k1 =
 *           0x5a5a, xmm20 dword 1 = -20, ymm17 dword 6 = 1717, zmm31
 *           qword 7 = 0x3131313131313131, zmm9 dword 15 = 99.
 *   avx     ymm0-15; stops at y_stop1, y_stop2. The test writes ymm3
 *           dword 5 = 35 and xmm4 dword 0 = -4.
 *
 * Register r holds dwords r*100 + i (i = 0..15); k holds
 * 0x1000100010001 * (k+1). The functions that touch AVX-512 or AVX
 * registers are compiled for those only (target attributes): the rest
 * runs on any x86-64.
 */
#include <stdio.h>
#include <string.h>

int in[32][16] __attribute__((aligned(64)));
int out[32][16] __attribute__((aligned(64)));
unsigned long long kin[8], kout[8];

__attribute__((noinline, target("avx512f,avx512bw"))) static void zmm_round(void) {
	__asm__ volatile(
		"vmovdqu64 0(%0), %%zmm0\n"
		"vmovdqu64 64(%0), %%zmm1\n"
		"vmovdqu64 128(%0), %%zmm2\n"
		"vmovdqu64 192(%0), %%zmm3\n"
		"vmovdqu64 256(%0), %%zmm4\n"
		"vmovdqu64 320(%0), %%zmm5\n"
		"vmovdqu64 384(%0), %%zmm6\n"
		"vmovdqu64 448(%0), %%zmm7\n"
		"vmovdqu64 512(%0), %%zmm8\n"
		"vmovdqu64 576(%0), %%zmm9\n"
		"vmovdqu64 640(%0), %%zmm10\n"
		"vmovdqu64 704(%0), %%zmm11\n"
		"vmovdqu64 768(%0), %%zmm12\n"
		"vmovdqu64 832(%0), %%zmm13\n"
		"vmovdqu64 896(%0), %%zmm14\n"
		"vmovdqu64 960(%0), %%zmm15\n"
		"vmovdqu64 1024(%0), %%zmm16\n"
		"vmovdqu64 1088(%0), %%zmm17\n"
		"vmovdqu64 1152(%0), %%zmm18\n"
		"vmovdqu64 1216(%0), %%zmm19\n"
		"vmovdqu64 1280(%0), %%zmm20\n"
		"vmovdqu64 1344(%0), %%zmm21\n"
		"vmovdqu64 1408(%0), %%zmm22\n"
		"vmovdqu64 1472(%0), %%zmm23\n"
		"vmovdqu64 1536(%0), %%zmm24\n"
		"vmovdqu64 1600(%0), %%zmm25\n"
		"vmovdqu64 1664(%0), %%zmm26\n"
		"vmovdqu64 1728(%0), %%zmm27\n"
		"vmovdqu64 1792(%0), %%zmm28\n"
		"vmovdqu64 1856(%0), %%zmm29\n"
		"vmovdqu64 1920(%0), %%zmm30\n"
		"vmovdqu64 1984(%0), %%zmm31\n"
		"kmovq 0(%1), %%k0\n"
		"kmovq 8(%1), %%k1\n"
		"kmovq 16(%1), %%k2\n"
		"kmovq 24(%1), %%k3\n"
		"kmovq 32(%1), %%k4\n"
		"kmovq 40(%1), %%k5\n"
		"kmovq 48(%1), %%k6\n"
		"kmovq 56(%1), %%k7\n"
		".globl z_stop1\nz_stop1: nop\nnop\n"
		".globl z_stop2\nz_stop2: nop\n"
		"vmovdqu64 %%zmm0, 0(%2)\n"
		"vmovdqu64 %%zmm1, 64(%2)\n"
		"vmovdqu64 %%zmm2, 128(%2)\n"
		"vmovdqu64 %%zmm3, 192(%2)\n"
		"vmovdqu64 %%zmm4, 256(%2)\n"
		"vmovdqu64 %%zmm5, 320(%2)\n"
		"vmovdqu64 %%zmm6, 384(%2)\n"
		"vmovdqu64 %%zmm7, 448(%2)\n"
		"vmovdqu64 %%zmm8, 512(%2)\n"
		"vmovdqu64 %%zmm9, 576(%2)\n"
		"vmovdqu64 %%zmm10, 640(%2)\n"
		"vmovdqu64 %%zmm11, 704(%2)\n"
		"vmovdqu64 %%zmm12, 768(%2)\n"
		"vmovdqu64 %%zmm13, 832(%2)\n"
		"vmovdqu64 %%zmm14, 896(%2)\n"
		"vmovdqu64 %%zmm15, 960(%2)\n"
		"vmovdqu64 %%zmm16, 1024(%2)\n"
		"vmovdqu64 %%zmm17, 1088(%2)\n"
		"vmovdqu64 %%zmm18, 1152(%2)\n"
		"vmovdqu64 %%zmm19, 1216(%2)\n"
		"vmovdqu64 %%zmm20, 1280(%2)\n"
		"vmovdqu64 %%zmm21, 1344(%2)\n"
		"vmovdqu64 %%zmm22, 1408(%2)\n"
		"vmovdqu64 %%zmm23, 1472(%2)\n"
		"vmovdqu64 %%zmm24, 1536(%2)\n"
		"vmovdqu64 %%zmm25, 1600(%2)\n"
		"vmovdqu64 %%zmm26, 1664(%2)\n"
		"vmovdqu64 %%zmm27, 1728(%2)\n"
		"vmovdqu64 %%zmm28, 1792(%2)\n"
		"vmovdqu64 %%zmm29, 1856(%2)\n"
		"vmovdqu64 %%zmm30, 1920(%2)\n"
		"vmovdqu64 %%zmm31, 1984(%2)\n"
		"kmovq %%k0, 0(%3)\n"
		"kmovq %%k1, 8(%3)\n"
		"kmovq %%k2, 16(%3)\n"
		"kmovq %%k3, 24(%3)\n"
		"kmovq %%k4, 32(%3)\n"
		"kmovq %%k5, 40(%3)\n"
		"kmovq %%k6, 48(%3)\n"
		"kmovq %%k7, 56(%3)\n"
		:: "r"(in), "r"(kin), "r"(out), "r"(kout)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31",
		  "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "memory");
}

__attribute__((noinline, target("avx"))) static void ymm_round(void) {
	__asm__ volatile(
		"vmovdqu 0(%0), %%ymm0\n"
		"vmovdqu 64(%0), %%ymm1\n"
		"vmovdqu 128(%0), %%ymm2\n"
		"vmovdqu 192(%0), %%ymm3\n"
		"vmovdqu 256(%0), %%ymm4\n"
		"vmovdqu 320(%0), %%ymm5\n"
		"vmovdqu 384(%0), %%ymm6\n"
		"vmovdqu 448(%0), %%ymm7\n"
		"vmovdqu 512(%0), %%ymm8\n"
		"vmovdqu 576(%0), %%ymm9\n"
		"vmovdqu 640(%0), %%ymm10\n"
		"vmovdqu 704(%0), %%ymm11\n"
		"vmovdqu 768(%0), %%ymm12\n"
		"vmovdqu 832(%0), %%ymm13\n"
		"vmovdqu 896(%0), %%ymm14\n"
		"vmovdqu 960(%0), %%ymm15\n"
		".globl y_stop1\ny_stop1: nop\nnop\n"
		".globl y_stop2\ny_stop2: nop\n"
		"vmovdqu %%ymm0, 0(%1)\n"
		"vmovdqu %%ymm1, 64(%1)\n"
		"vmovdqu %%ymm2, 128(%1)\n"
		"vmovdqu %%ymm3, 192(%1)\n"
		"vmovdqu %%ymm4, 256(%1)\n"
		"vmovdqu %%ymm5, 320(%1)\n"
		"vmovdqu %%ymm6, 384(%1)\n"
		"vmovdqu %%ymm7, 448(%1)\n"
		"vmovdqu %%ymm8, 512(%1)\n"
		"vmovdqu %%ymm9, 576(%1)\n"
		"vmovdqu %%ymm10, 640(%1)\n"
		"vmovdqu %%ymm11, 704(%1)\n"
		"vmovdqu %%ymm12, 768(%1)\n"
		"vmovdqu %%ymm13, 832(%1)\n"
		"vmovdqu %%ymm14, 896(%1)\n"
		"vmovdqu %%ymm15, 960(%1)\n"
		:: "r"(in), "r"(out)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
}

int main(int argc, char **argv) {
	int avx512 = argc > 1 && strcmp(argv[1], "avx512") == 0;
	int nregs = avx512 ? 32 : 16, ndw = avx512 ? 16 : 8;
	for (int r = 0; r < 32; r++)
		for (int i = 0; i < 16; i++)
			in[r][i] = r * 100 + i;
	for (int k = 0; k < 8; k++)
		kin[k] = 0x1000100010001ull * (k + 1);
	int want[32][16];
	unsigned long long kwant[8];
	memcpy(want, in, sizeof want);
	memcpy(kwant, kin, sizeof kwant);
	if (avx512) {
		zmm_round();
		want[0][3] = 7;
		kwant[1] = 0x5a5a;
		want[20][1] = -20;
		want[17][6] = 1717;
		want[31][14] = 0x31313131;
		want[31][15] = 0x31313131;
		want[9][15] = 99;
	} else {
		ymm_round();
		want[3][5] = 35;
		want[4][0] = -4;
	}
	int bad = 0;
	for (int r = 0; r < nregs; r++)
		for (int i = 0; i < ndw; i++)
			if (out[r][i] != want[r][i]) {
				fprintf(stderr, "%cmm%d dword %d = %d, want %d\n", avx512 ? 'z' : 'y', r, i, out[r][i], want[r][i]);
				bad = 1;
			}
	for (int k = 0; avx512 && k < 8; k++)
		if (kout[k] != kwant[k]) {
			fprintf(stderr, "k%d = %#llx, want %#llx\n", k, kout[k], kwant[k]);
			bad = 1;
		}
	return bad;
}
