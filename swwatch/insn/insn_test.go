package insn

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/arch/x86/x86csv"
)

// fakeRegs is a Registers for table tests.
type fakeRegs [numRegs]uint64

func (f *fakeRegs) Reg(r Reg) uint64 { return f[r] }

// vecRegs adds vector and mask registers.
type vecRegs struct {
	fakeRegs
	vec [32][64]byte
	k   [8]uint64
}

func (v *vecRegs) VectorElement(n, i, size int) (uint64, bool) {
	var x uint64
	for b := size - 1; b >= 0; b-- {
		x = x<<8 | uint64(v.vec[n][i*size+b])
	}
	return x, true
}

func (v *vecRegs) Opmask(k int) (uint64, bool) { return v.k[k], true }

func (v *vecRegs) setDwords(n int, vals ...int32) {
	for i, x := range vals {
		for b := 0; b < 4; b++ {
			v.vec[n][4*i+b] = byte(uint32(x) >> (8 * b))
		}
	}
}

// baselineRegs: general register i holds (i+1)<<16, so an address tells
// which register it came from.
func baselineRegs() fakeRegs {
	var r fakeRegs
	for i := RAX; i <= R15; i++ {
		r[i] = uint64(i+1) << 16
	}
	r[RIP], r[RFLAGS], r[FSBase], r[GSBase], r[XCR0] = 0x400000, 0x202, 0x7f0000000000, 0x7e0000000000, 0xe7
	return r
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func r(addr uint64, size int) Access  { return Access{Addr: addr, Size: size, Read: true} }
func w(addr uint64, size int) Access  { return Access{Addr: addr, Size: size, Write: true} }
func rw(addr uint64, size int) Access { return Access{Addr: addr, Size: size, Read: true, Write: true} }
func partial(a Access) Access         { a.Partial = true; return a }

type accessCase struct {
	asm  string // AT&T, for the reader
	code string // hex
	regs map[Reg]uint64
	vec  func(v *vecRegs) // nil: Registers without VectorRegisters
	want []Access         // on Intel, and on every CPU unless amd or other says otherwise
	amd  []Access         // on AMD, when it differs
	// other: on a vendor whose debug hardware is not measured, when it
	// differs from Intel's.
	other []Access
	step  []Access // StepAccesses (every CPU), when it differs from want
	flow  Flow
	eff   Effects
}

var accessCases = []accessCase{
	{asm: "mov %rax,0x8(%rdi)", code: "48 89 47 08", want: []Access{w(0x80008, 8)}},
	{asm: "mov 0x8(%rdi),%eax", code: "8b 47 08", want: []Access{r(0x80008, 4)}},
	{asm: "mov -0xa8(%rbp),%rax (negative disp32)", code: "48 8b 85 58 ff ff ff", want: []Access{r(0x5ff58, 8)}},
	{asm: "add %eax,(%rdi)", code: "01 07", want: []Access{rw(0x80000, 4)}},
	{asm: "subl $0x1,0x4(%rdi)", code: "83 6f 04 01", want: []Access{rw(0x80004, 4)}},
	{asm: "incq (%rdi)", code: "48 ff 07", want: []Access{rw(0x80000, 8)}},
	{asm: "cmpl $0x3,(%rdi)", code: "83 3f 03", want: []Access{r(0x80000, 4)}},
	{asm: "lea 0x8(%rdi,%rsi,4),%rax", code: "48 8d 44 b7 08"},
	{asm: "nopl (%rax,%rax,1)", code: "0f 1f 04 00"},
	{asm: "sete (%rdi)", code: "0f 94 07", want: []Access{w(0x80000, 1)}},
	{asm: "divl (%rdi)", code: "f7 37", want: []Access{r(0x80000, 4)}},
	{asm: "imull (%rdi)", code: "f7 2f", want: []Access{r(0x80000, 4)}},
	{asm: "shld $0x3,%eax,(%rdi)", code: "0f a4 07 03", want: []Access{rw(0x80000, 4)}},
	{asm: "bt %rax,(%rdi)", code: "48 0f a3 07", want: []Access{r(0x82000, 8)}},
	{asm: "bts %ecx,(%rdi), ecx=-40", code: "0f ab 0f", regs: map[Reg]uint64{RCX: 0xffffffd8}, want: []Access{rw(0x7fff8, 4)}},
	{asm: "xlat", code: "d7", regs: map[Reg]uint64{RAX: 0x1234}, want: []Access{r(0x40034, 1)}},
	// Stack.
	{asm: "push %rax", code: "50", want: []Access{w(0x4fff8, 8)}},
	{asm: "pop %rax", code: "58", want: []Access{r(0x50000, 8)}},
	{asm: "pushw $1", code: "66 6a 01", want: []Access{w(0x4fffe, 2)}},
	{asm: "push 0x10(%rdi)", code: "ff 77 10", want: []Access{r(0x80010, 8), w(0x4fff8, 8)}},
	{asm: "pop 0x8(%rsp)", code: "8f 44 24 08", want: []Access{r(0x50000, 8), w(0x50010, 8)}},
	{asm: "push %fs", code: "0f a0", want: []Access{w(0x4fff8, 8)}},
	{asm: "call .+5", code: "e8 00 00 00 00", want: []Access{w(0x4fff8, 8)}, flow: FlowCall},
	{asm: "call *0x8(%rdi)", code: "ff 57 08", want: []Access{r(0x80008, 8), w(0x4fff8, 8)}, flow: FlowCall},
	{asm: "ret", code: "c3", want: []Access{r(0x50000, 8)}, flow: FlowRet},
	{asm: "ret $0x10", code: "c2 10 00", want: []Access{r(0x50000, 8)}, flow: FlowRet},
	{asm: "leave", code: "c9", want: []Access{r(0x60000, 8)}},
	{asm: "enter $0x10,$0x3", code: "c8 10 00 03", want: []Access{r(0x5fff0, 16), w(0x4ffe0, 32)}},
	{asm: "iretq", code: "48 cf", want: []Access{r(0x50000, 8), r(0x50008, 2), r(0x50010, 16), r(0x50020, 2)},
		amd:   []Access{r(0x50000, 8), r(0x50008, 8), r(0x50010, 16), r(0x50020, 8)},
		other: []Access{r(0x50000, 8), r(0x50008, 2), partial(r(0x5000a, 6)), r(0x50010, 16), r(0x50020, 2), partial(r(0x50022, 6))},
		flow:  FlowRet, eff: EffTrapFlag},
	{asm: "lret", code: "cb", want: []Access{r(0x50000, 4), r(0x50004, 2)},
		amd:   []Access{r(0x50000, 4), r(0x50004, 4)},
		other: []Access{r(0x50000, 4), r(0x50004, 2), partial(r(0x50006, 2))}, flow: FlowRet},
	{asm: "lcall *(%rdi)", code: "ff 1f", want: []Access{r(0x80000, 6), w(0x4fff8, 2), partial(w(0x4fffa, 2)), w(0x4fffc, 4)},
		amd: []Access{r(0x80000, 6), w(0x4fff8, 4), w(0x4fffc, 4)}, flow: FlowCall},
	{asm: "rex.W lcall *(%rdi)", code: "48 ff 1f", want: []Access{r(0x80000, 10), w(0x4fff0, 2), partial(w(0x4fff2, 6)), w(0x4fff8, 8)},
		amd:   []Access{r(0x80000, 6), w(0x4fff0, 8), w(0x4fff8, 8)},
		other: []Access{r(0x80000, 6), partial(r(0x80006, 4)), w(0x4fff0, 2), partial(w(0x4fff2, 6)), w(0x4fff8, 8)}, flow: FlowCall},
	{asm: "rex.W ljmp *(%rdi)", code: "48 ff 2f", want: []Access{r(0x80000, 10)}, amd: []Access{r(0x80000, 6)},
		other: []Access{r(0x80000, 6), partial(r(0x80006, 4))}, flow: FlowJump},
	{asm: "popf", code: "9d", want: []Access{r(0x50000, 8)}, eff: EffTrapFlag},
	// Strings.
	{asm: "movsb", code: "a4", want: []Access{r(0x70000, 1), w(0x80000, 1)}},
	{asm: "rep movsb, rcx=3", code: "f3 a4", regs: map[Reg]uint64{RCX: 3},
		want: []Access{r(0x70000, 3), w(0x80000, 3)}, step: []Access{r(0x70000, 1), w(0x80000, 1)}, eff: EffRep},
	{asm: "rep movsq, rcx=3, DF=1", code: "f3 48 a5", regs: map[Reg]uint64{RCX: 3, RFLAGS: 0x602},
		want: []Access{r(0x6fff0, 24), w(0x7fff0, 24)}, step: []Access{r(0x70000, 8), w(0x80000, 8)}, eff: EffRep},
	{asm: "rep stos %al, rcx=0", code: "f3 aa", regs: map[Reg]uint64{RCX: 0}, eff: EffRep},
	{asm: "repz cmpsb, rcx=3", code: "f3 a6", regs: map[Reg]uint64{RCX: 3},
		want: []Access{partial(r(0x70000, 3)), partial(r(0x80000, 3))}, step: []Access{r(0x70000, 1), r(0x80000, 1)}, eff: EffRep},
	{asm: "repnz scasb, rcx=3", code: "f2 ae", regs: map[Reg]uint64{RCX: 3},
		want: []Access{partial(r(0x80000, 3))}, step: []Access{r(0x80000, 1)}, eff: EffRep},
	{asm: "lods %ds:(%rsi),%rax", code: "48 ad", want: []Access{r(0x70000, 8)}},
	{asm: "movsb %fs:(%rsi),%es:(%rdi)", code: "64 a4", want: []Access{r(0x7f0000070000, 1), w(0x80000, 1)}},
	{asm: "addr32 rep movsb", code: "67 f3 a4", regs: map[Reg]uint64{RCX: 0x100000003, RSI: 0x100070000},
		want: []Access{r(0x70000, 3), w(0x80000, 3)}, step: []Access{r(0x70000, 1), w(0x80000, 1)}, eff: EffRep},
	// Atomics.
	{asm: "xchg %rax,(%rdi)", code: "48 87 07", want: []Access{rw(0x80000, 8)}, eff: EffLock},
	{asm: "cmpxchg %ecx,(%rdi)", code: "0f b1 0f", want: []Access{rw(0x80000, 4)}},
	{asm: "lock xadd %eax,(%rdi)", code: "f0 0f c1 07", want: []Access{rw(0x80000, 4)}, eff: EffLock},
	{asm: "cmpxchg16b (%rdi)", code: "48 0f c7 0f", want: []Access{rw(0x80000, 16)}},
	// Vectors.
	{asm: "movdqa (%rdi),%xmm0", code: "66 0f 6f 07", want: []Access{r(0x80000, 16)}},
	{asm: "movups %xmm1,(%rdi)", code: "0f 11 0f", want: []Access{w(0x80000, 16)}},
	{asm: "vmovdqu (%rdi),%ymm0", code: "c5 fe 6f 07", want: []Access{r(0x80000, 32)}},
	{asm: "vmovdqu %ymm2,0x20(%rdi)", code: "c5 fe 7f 57 20", want: []Access{w(0x80020, 32)}},
	{asm: "vaddps (%rdi){1to16},%zmm1,%zmm2", code: "62 f1 74 58 58 17", want: []Access{r(0x80000, 4)}},
	{asm: "vpgatherdd %ymm2,(%rdi,%ymm1,4),%ymm0", code: "c4 e2 6d 90 04 8f",
		vec: func(v *vecRegs) {
			v.setDwords(1, 0, 1, 2, -1, 4, 5, 6, 7)
			v.setDwords(2, -1, 0, -1, -1, 0, 0, 0, 0)
		},
		want: []Access{r(0x80000, 4), r(0x80008, 4), r(0x7fffc, 4)}},
	{asm: "vpgatherdd, no vector registers", code: "c4 e2 6d 90 04 8f",
		want: []Access{partial(r(gatherLo, 4<<32+4))}},
	{asm: "vmovdqu8 %zmm1,(%rdi){%k1}", code: "62 f1 7f 49 7f 0f",
		vec:  func(v *vecRegs) { v.k[1] = 0x0f00000000000003 },
		want: []Access{w(0x80000, 2), w(0x80038, 4)}},
	{asm: "vmovdqu8 %zmm1,(%rdi){%k1}, no vector registers", code: "62 f1 7f 49 7f 0f", want: []Access{partial(w(0x80000, 64))}},
	{asm: "vpcompressd %zmm1,(%rdi){%k1}", code: "62 f2 7d 49 8b 0f",
		vec: func(v *vecRegs) { v.k[1] = 0x0f0f }, want: []Access{w(0x80000, 32)}},
	{asm: "vmaskmovps %xmm1,%xmm2,(%rdi)", code: "c4 e2 69 2e 0f",
		vec: func(v *vecRegs) { v.setDwords(2, -1, 0, -1, -1) }, want: []Access{w(0x80000, 4), w(0x80008, 8)}},
	{asm: "maskmovdqu %xmm1,%xmm2, no vector registers", code: "66 0f f7 d1", want: []Access{w(0x80000, 16)},
		amd: []Access{partial(w(0x80000, 16))}, other: []Access{partial(w(0x80000, 16))}},
	{asm: "maskmovdqu %xmm1,%xmm2", code: "66 0f f7 d1",
		vec:  func(v *vecRegs) { v.vec[1][0], v.vec[1][1], v.vec[1][5], v.vec[1][6] = 0x80, 0xff, 0x80, 0x7f },
		want: []Access{w(0x80000, 16)}, amd: []Access{w(0x80000, 2), w(0x80005, 1)}, other: []Access{partial(w(0x80000, 16))}},
	{asm: "maskmovdqu %xmm1,%xmm2, zero mask", code: "66 0f f7 d1", vec: func(v *vecRegs) {},
		want: []Access{partial(w(0x80000, 16))}, amd: []Access{}},
	{asm: "vpmaskmovd (%rdi),%xmm2,%xmm1", code: "c4 e2 69 8c 0f",
		vec:  func(v *vecRegs) { v.setDwords(2, 0, -1, -1, 0) },
		want: []Access{r(0x80004, 8)}, amd: []Access{r(0x80000, 16)}, other: []Access{r(0x80004, 8), partial(r(0x80000, 16))}},
	{asm: "vmovdqu8 %zmm1,(%rdi){%k1}, zero mask", code: "62 f1 7f 49 7f 0f", vec: func(v *vecRegs) {}, want: []Access{}},
	{asm: "vpcompressd %zmm1,(%rdi){%k1}, zero mask", code: "62 f2 7d 49 8b 0f", vec: func(v *vecRegs) {}, want: []Access{}},
	{asm: "vpaddd (%rdi),%zmm1,%zmm2{%k1} (a masked source: a bound)", code: "62 f1 75 49 fe 17",
		vec: func(v *vecRegs) { v.k[1] = 1 }, want: []Access{partial(r(0x80000, 64))}},
	// Save areas.
	{asm: "fxsave (%rdi)", code: "0f ae 07", want: []Access{w(0x80000, 416)}},
	{asm: "fxrstor (%rdi)", code: "0f ae 0f", want: []Access{r(0x80000, 28), r(0x80020, 384)}},
	{asm: "xsave (%rdi), edx:eax=7", code: "0f ae 27", regs: map[Reg]uint64{RAX: 7, RDX: 0},
		want: []Access{w(0x80000, 416), rw(0x80200, 8), w(0x80240, 256)}},
	{asm: "xsave (%rdi), edx:eax=4 (AVX: MXCSR too)", code: "0f ae 27", regs: map[Reg]uint64{RAX: 4, RDX: 0},
		want: []Access{w(0x80018, 8), rw(0x80200, 8), w(0x80240, 256)}},
	{asm: "xsavec (%rdi), edx:eax=-1", code: "0f c7 27", regs: map[Reg]uint64{RAX: 0xffffffff, RDX: 0xffffffff},
		want: []Access{partial(w(0x80000, 416)), w(0x80200, 16), partial(w(0x80240, 256)), partial(w(0x80340, 64)),
			partial(w(0x80380, 512)), partial(w(0x80580, 1024))}},
	{asm: "xrstor (%rdi), edx:eax=-1", code: "0f ae 2f", regs: map[Reg]uint64{RAX: 0xffffffff, RDX: 0xffffffff},
		want: []Access{partial(r(0x80000, 2688))}, amd: []Access{partial(r(0x80000, 2432))}},
	{asm: "xsave (%rdi), edx:eax=0x20 (opmask: where CPUID puts it)", code: "0f ae 27", regs: map[Reg]uint64{RAX: 0x20, RDX: 0},
		want: []Access{rw(0x80200, 8), w(0x80440, 64)}, amd: []Access{rw(0x80200, 8), w(0x80340, 64)}},
	{asm: "xsave (%rdi), edx:eax=-1", code: "0f ae 27", regs: map[Reg]uint64{RAX: 0xffffffff, RDX: 0xffffffff},
		want: []Access{w(0x80000, 416), rw(0x80200, 8), w(0x80240, 256), w(0x80440, 64), w(0x80480, 512), w(0x80680, 1024)},
		amd:  []Access{w(0x80000, 416), rw(0x80200, 8), w(0x80240, 256), w(0x80340, 64), w(0x80380, 512), w(0x80580, 1024)}},
	{asm: "fnstenv (%rdi)", code: "d9 37", want: []Access{w(0x80000, 28)}},
	{asm: "fldt (%rdi)", code: "db 2f", want: []Access{r(0x80000, 10)}},
	// Addressing.
	{asm: "mov 0x10(%rip),%rax", code: "48 8b 05 10 00 00 00", want: []Access{r(0x400017, 8)}},
	{asm: "mov -0x10(%rip),%rax", code: "48 8b 05 f0 ff ff ff", want: []Access{r(0x3ffff7, 8)}},
	{asm: "vmovaps 0xf94(%rip),%ymm0", code: "c5 fc 28 05 94 0f 00 00", want: []Access{r(0x400f9c, 32)}},
	{asm: "vmovdqa64 %zmm0,0x3087(%rip)", code: "62 f1 fd 48 7f 05 87 30 00 00", want: []Access{w(0x403091, 64)}},
	{asm: "mov %fs:0x28,%rax", code: "64 48 8b 04 25 28 00 00 00", want: []Access{r(0x7f0000000028, 8)}},
	{asm: "mov %rax,%fs:(%rdi)", code: "64 48 89 07", want: []Access{w(0x7f0000080000, 8)}},
	{asm: "mov %gs:0x8,%rcx", code: "65 48 8b 0c 25 08 00 00 00", want: []Access{r(0x7e0000000008, 8)}},
	{asm: "vpminud 0x61(%rdi),%ymm3,%ymm4 (VEX byte 0x65 is not GS)", code: "c4 e2 65 3b 67 61", want: []Access{r(0x80061, 32)}},
	{asm: "movabs 0x1122334455667788,%al", code: "a0 88 77 66 55 44 33 22 11", want: []Access{r(0x1122334455667788, 1)}},
	{asm: "movabs 0x80000000,%al (moffs not sign-extended)", code: "a0 00 00 00 80 00 00 00 00", want: []Access{r(0x80000000, 1)}},
	// Fixups.
	{asm: "endbr64", code: "f3 0f 1e fa"},
	{asm: "movdir64b (%rsi),%rdi", code: "66 0f 38 f8 3e", want: []Access{r(0x70000, 64), w(0x80000, 64)}},
	{asm: "movdiri %rax,(%rdi)", code: "48 0f 38 f9 07", want: []Access{w(0x80000, 8)}},
	{asm: "enqcmd (%rsi),%rdi", code: "f2 0f 38 f8 3e", want: []Access{r(0x70000, 64), partial(w(0x80000, 64))}},
	{asm: "enqcmds (%rsi),%rdi", code: "f3 0f 38 f8 3e", eff: EffTrap},
	{asm: "ldtilecfg (%rdi)", code: "c4 e2 78 49 07", want: []Access{r(0x80000, 64)}},
	{asm: "sttilecfg 0x8(%rdi)", code: "c4 e2 79 49 47 08", want: []Access{w(0x80008, 64)}},
	{asm: "tileloadd 0x10(%rdi,%rsi,4),%tmm7 (stride 4*rsi)", code: "c4 e2 7b 4b 7c b7 10", regs: map[Reg]uint64{RSI: 0x100},
		want: tileRows(0x80010, 0x400, false)},
	{asm: "tilestored %tmm2,(%rdi,%rsi,1)", code: "c4 e2 7a 4b 14 37", regs: map[Reg]uint64{RSI: 64},
		want: tileRows(0x80000, 64, true)},
	{asm: "tileloadd (%r9,%r10,2),%tmm0 (VEX.RXB)", code: "c4 82 7b 4b 04 51", regs: map[Reg]uint64{R10: 0},
		want: []Access{partial(r(0xa0000, 64))}},
	{asm: "tilerelease", code: "c4 e2 78 49 c0"},
	{asm: "tdpbssd %tmm1,%tmm2,%tmm3", code: "c4 e2 73 5e da"},
	{asm: "adcx (%rdi),%rax", code: "66 48 0f 38 f6 07", want: []Access{r(0x80000, 8)}},
	{asm: "ptwritel (%rdi)", code: "f3 0f ae 27", want: []Access{r(0x80000, 4)}},
	{asm: "clwb (%rdi)", code: "66 0f ae 37", want: []Access{r(0x80000, 1)}},
	{asm: "clflush 0x25(%rdi)", code: "0f ae 7f 25", want: []Access{r(0x80025, 1)}},
	{asm: "rdsspq %rax", code: "f3 48 0f 1e c8", eff: EffShadowStack},
	// Control flow and effects.
	{asm: "syscall", code: "0f 05", eff: EffSyscall},
	{asm: "int $0x80", code: "cd 80", eff: EffSyscall},
	{asm: "int3", code: "cc", eff: EffTrap},
	{asm: "ud2", code: "0f 0b", eff: EffTrap},
	{asm: "xbegin .+6", code: "c7 f8 00 00 00 00", flow: FlowCondJump, eff: EffTransaction},
	{asm: "jmp .+2", code: "eb 00", flow: FlowJump},
	{asm: "jne .+2", code: "75 00", flow: FlowCondJump},
	{asm: "jmp *(%rax)", code: "ff 20", want: []Access{r(0x10000, 8)}, flow: FlowJump},
}

func TestAccesses(t *testing.T) {
	cpus := []struct {
		name string
		m    Machine
		want func(c accessCase) []Access
	}{
		{"intel", On(intelCPU), func(c accessCase) []Access { return c.want }},
		{"amd", On(amdCPU), func(c accessCase) []Access {
			if c.amd != nil {
				return c.amd
			}
			return c.want
		}},
		{"other", On(otherCPU), func(c accessCase) []Access {
			if c.other != nil {
				return c.other
			}
			return c.want
		}},
	}
	for _, c := range accessCases {
		t.Run(c.asm, func(t *testing.T) {
			in, err := Decode(unhex(t, c.code), Mode64)
			if err != nil {
				t.Fatal(err)
			}
			if in.Len != len(unhex(t, c.code)) {
				t.Errorf("Len %d, want %d", in.Len, len(unhex(t, c.code)))
			}
			if in.Flow != c.flow || in.Effects != c.eff {
				t.Errorf("flow %v effects %v, want %v %v", in.Flow, in.Effects, c.flow, c.eff)
			}
			var regs Registers
			base := baselineRegs()
			for r, v := range c.regs {
				base[r] = v
			}
			if c.vec != nil {
				v := &vecRegs{fakeRegs: base}
				c.vec(v)
				regs = v
			} else {
				regs = &base
			}
			for _, cpu := range cpus {
				want := cpu.want(c)
				got, err := cpu.m.Accesses(in, regs, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !sameAccesses(got, want) {
					t.Errorf("%s: Accesses = %v, want %v", cpu.name, got, want)
				}
				if c.step != nil {
					want = c.step
				}
				got, err = cpu.m.StepAccesses(in, regs, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !sameAccesses(got, want) {
					t.Errorf("%s: StepAccesses = %v, want %v", cpu.name, got, want)
				}
			}
		})
	}
}

// sameAccesses compares two lists, nil and empty alike.
func sameAccesses(a, b []Access) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

func TestBranchTarget(t *testing.T) {
	regs := baselineRegs()
	for _, c := range []struct {
		code string
		want uint64
		ok   bool
	}{
		{"e8 10 00 00 00", 0x400015, true}, // call .+0x15
		{"eb fe", 0x400000, true},          // jmp .
		{"75 10", 0x400012, true},          // jne
		{"ff d0", 0x10000, true},           // call *%rax
		{"41 ff e3", 0xc0000, true},        // jmp *%r11
		{"ff 10", 0, false},                // call *(%rax): memory
		{"c3", 0, false},                   // ret
		{"90", 0, false},                   // nop
	} {
		in, err := Decode(unhex(t, c.code), Mode64)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := in.BranchTarget(&regs)
		if got != c.want || ok != c.ok {
			t.Errorf("%s (%v): BranchTarget = %#x, %v; want %#x, %v", c.code, in, got, ok, c.want, c.ok)
		}
	}
}

func TestUndecodable(t *testing.T) {
	for _, c := range []string{
		"",            // nothing
		"48 8b",       // truncated ModRM
		"0f",          // truncated opcode
		"f3 0f 1e",    // truncated endbr64
		"66 0f 38 f8", // truncated movdir64b
		"0f 04",       // invalid opcode
		"f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 90", // longer than 15 bytes
	} {
		_, err := Decode(unhex(t, c), Mode64)
		var de *DecodeError
		if !errors.Is(err, ErrUndecodable) || !errors.As(err, &de) {
			t.Errorf("%q: err = %v, want a DecodeError wrapping ErrUndecodable", c, err)
		}
	}
	if _, err := Decode([]byte{0x90}, 32); !errors.Is(err, ErrUndecodable) {
		t.Errorf("mode 32: err = %v", err)
	}
}

// TestX86asmMisdecodes records what golang.org/x/arch/x86/x86asm does
// with each instruction that Decode handles itself. When x86asm gets one
// right, the test says so and the fixup can go.
func TestX86asmMisdecodes(t *testing.T) {
	for _, c := range []struct {
		code, name string
		x86asm     string // what x86asm v0.32.0 returns
	}{
		{"f3 0f 1e fa", "endbr64", "1-byte rep prefix, no error"},
		{"f3 0f 1e fb", "endbr32", "1-byte rep prefix, no error"},
		{"f3 48 0f 1e c8", "rdssp", "1-byte rep prefix, no error"},
		{"0f 1e 07", "nop (hint)", "unrecognized"},
		{"0f 1a 07", "nop (hint)", "unrecognized (MPX bndldx)"},
		{"f3 48 0f ae e8", "incssp", "rep lfence"},
		{"f3 0f ae 27", "ptwrite", "rep xsave: a whole XSAVE area written"},
		{"66 0f ae 37", "clwb", "xsaveopt: a whole XSAVE area written"},
		{"66 0f ae 3f", "clflushopt", "clflush (same accesses)"},
		{"f3 0f c7 f8", "rdpid", "1-byte rep prefix, no error"},
		{"0f c7 f8", "rdseed", "unrecognized"},
		{"0f 01 ee", "rdpkru", "unrecognized"},
		{"0f 01 ef", "wrpkru", "unrecognized"},
		{"0f 01 e8", "serialize", "unrecognized"},
		{"66 48 0f 38 f6 07", "adcx", "1-byte data16 prefix, no error"},
		{"f3 0f 38 f6 07", "adox", "1-byte rep prefix, no error"},
		{"66 0f 38 f8 3e", "movdir64b", "1-byte data16 prefix, no error"},
		{"48 0f 38 f9 07", "movdiri", "unrecognized"},
		{"f2 0f 38 f8 3e", "enqcmd", "1-byte repn prefix, no error"},
		{"c4 e2 78 49 07", "ldtilecfg", "unknown AVX opcode"},
		{"c4 e2 7b 4b 0c 37", "tileloadd", "unknown AVX opcode"},
		{"c4 e2 7a 4b 14 37", "tilestored", "unknown AVX opcode"},
		{"0f 1c 07", "cldemote", "unrecognized"},
		{"0f 0d 00", "prefetch", "unrecognized"},
	} {
		code := unhex(t, c.code)
		in, err := Decode(code, Mode64)
		if err != nil || in.Mnemonic() != c.name || in.Len != len(code) {
			t.Errorf("%s: Decode = %q len %d, %v; want %q len %d", c.code, in.Mnemonic(), in.Len, err, c.name, len(code))
		}
		x, err := x86asm.Decode(code, 64)
		if err == nil && x.Op != 0 && x.Len == len(code) && strings.EqualFold(x.Op.String(), strings.Fields(c.name)[0]) {
			t.Errorf("%s: x86asm now decodes %s right (was: %s); the fixup can go", c.code, c.name, c.x86asm)
		}
	}
	// Operand-level mis-decodes, handled when converting x86asm's result.
	for _, c := range []struct {
		code, what string
		check      func(x x86asm.Inst) bool // true while x86asm still gets it wrong
	}{
		{"48 8b 85 58 ff ff ff", "disp32 of legacy instructions zero-extended", func(x x86asm.Inst) bool {
			return x.Args[1].(x86asm.Mem).Disp == 0xffffff58
		}},
		{"d7", "XLAT's operand is [RBX], without AL", func(x x86asm.Inst) bool {
			return x.Args[0].(x86asm.Mem).Index == 0
		}},
		{"66 0f f7 d1", "MASKMOVDQU has no memory operand", func(x x86asm.Inst) bool {
			_, isMem := x.Args[0].(x86asm.Mem)
			return !isMem
		}},
		{"c5 fc 28 05 94 0f 00 00", "VEX/EVEX RIP-relative operand decoded as absolute", func(x x86asm.Inst) bool {
			return x.Args[1].(x86asm.Mem).Base == 0
		}},
		{"db 2f", "FLD m80fp has MemBytes 0", func(x x86asm.Inst) bool { return x.MemBytes == 0 }},
		{"0f ae 07", "FXSAVE has MemBytes 0", func(x x86asm.Inst) bool { return x.MemBytes == 0 }},
	} {
		x, err := x86asm.Decode(unhex(t, c.code), 64)
		if err != nil || !c.check(x) {
			t.Errorf("%s: x86asm no longer shows %q (%v, %v)", c.code, c.what, x, err)
		}
	}
	// Once mis-decoded, now right: VZEROUPPER since the AVX tables.
	if x, err := x86asm.Decode([]byte{0xc5, 0xf8, 0x77}, 64); err != nil || x.Op != x86asm.VZEROUPPER || x.Len != 3 {
		t.Errorf("vzeroupper: x86asm %v len %d, %v", x.Op, x.Len, err)
	}
}

// TestOverridesCoverConflicts checks that every opcode whose CSV rows
// disagree has a hand-written override.
func TestOverridesCoverConflicts(t *testing.T) {
	for _, op := range csvConflicts {
		sp := specialOf(op)
		if sp.kind == kindPlain && sp.act == (memActs{}) {
			t.Errorf("%v: CSV rows disagree and special.go has no override", op)
		}
	}
}

// TestEveryMemoryOpcodeKnown: every opcode x86asm decodes has a read or
// write action for its memory operands (csvTable, from the CSV, or
// special.go), unless it has no memory form valid in 64-bit mode. That is
// checked against the CSV itself (x86.v0.2.csv of the golang.org/x/arch
// that go.mod pins): an opcode left without an action although it has a
// memory form would make Decode refuse that form (ErrUndecodable) and
// the engine fall back to comparing values, for no reason.
func TestEveryMemoryOpcodeKnown(t *testing.T) {
	// Opcodes the CSV lacks, each with why it has no memory operand.
	notInCSV := map[string]string{
		"FLDZ":   "pushes +0.0 (SDM FLD1/FLDL2T/.../FLDZ: no operand)",
		"FLDLN2": "pushes log_e(2) (same entry)",
	}
	forms := csvForms(t)
	var none []string
	for op := x86asm.Op(1); int(op) < len(csvTable)+64; op++ {
		name := op.String()
		if strings.HasPrefix(name, "Op(") {
			continue
		}
		var acts memActs
		if int(op) < len(csvTable) {
			acts = csvTable[op]
		}
		if acts != (memActs{}) || specialOf(op) != (special{}) {
			continue
		}
		none = append(none, name)
		f, ok := forms[name]
		switch {
		case !ok && notInCSV[name] == "":
			t.Errorf("%s: no memory action, and not in the CSV: classify it here or in special.go", name)
		case ok && notInCSV[name] != "":
			t.Errorf("%s: in the CSV now; drop it from notInCSV", name)
		case f.mem != "":
			t.Errorf("%s: no memory action, but the CSV has a memory form valid in 64-bit mode: %s", name, f.mem)
		}
	}
	if len(none) == 0 {
		t.Fatal("every opcode has a memory action: the register-only ones (CLC, RDTSC...) should have none")
	}
	t.Logf("%d opcodes have no memory form in 64-bit mode: %s", len(none), strings.Join(none, " "))
}

// csvForm is what the CSV says of one opcode's memory operands in 64-bit
// mode: mem is the first row valid there with a memory operand, "" when
// none (no such row, or the opcode is invalid in 64-bit mode).
type csvForm struct {
	mem string
}

// csvForms reads the instruction CSV and returns, by opcode name (Intel
// mnemonic), its memory form in 64-bit mode, for every opcode it lists.
func csvForms(t *testing.T) map[string]csvForm {
	t.Helper()
	needTool(t, "go")
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/arch").Output()
	if err != nil {
		t.Fatalf("locate golang.org/x/arch: %v", err)
	}
	f, err := os.Open(filepath.Join(strings.TrimSpace(string(dir)), "x86", "x86.v0.2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := x86csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]csvForm{}
	for _, r := range rows {
		name := r.IntelOpcode()
		form := forms[name]
		if r.Mode64 == "V" && form.mem == "" {
			for _, a := range r.IntelArgs() {
				if csvMemoryOperand(a) {
					form.mem = r.Intel
				}
			}
		}
		forms[name] = form
	}
	return forms
}

// csvMemoryOperand says whether an operand of the CSV's Intel syntax can
// be memory: one of its "/"-separated forms is m, mem, mib, mN... or
// moffsN (gen.go reads the CSV the same way).
func csvMemoryOperand(arg string) bool {
	for _, p := range strings.Split(arg, "/") {
		if p == "m" || p == "mem" || p == "mib" || strings.HasPrefix(p, "moffs") ||
			len(p) > 1 && p[0] == 'm' && p[1] >= '0' && p[1] <= '9' {
			return true
		}
	}
	return false
}

func TestAccessString(t *testing.T) {
	for _, c := range []struct {
		a    Access
		want string
	}{
		{r(0x10, 4), "r 0x10+4"},
		{w(0x10, 4), "w 0x10+4"},
		{rw(0x10, 4), "rw 0x10+4"},
		{partial(w(0x10, 64)), "w 0x10+64 partial"},
	} {
		if got := c.a.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.a, got, c.want)
		}
	}
	if got := (EffSyscall | EffRep).String(); got != "syscall|rep" {
		t.Errorf("Effects.String = %q", got)
	}
	if got := fmt.Sprint(FlowCall, RSP, XCR0); got != "call rsp xcr0" {
		t.Errorf("String = %q", got)
	}
}

// gatherLo is the lowest address a dword-indexed gather from 0x80000
// with scale 4 can reach: 0x80000 - 4*2^31, wrapped.
var gatherLo = func() uint64 { base, span := uint64(0x80000), uint64(4)<<31; return base - span }()

// tileRows is what an AMX tile load or store at base with stride is
// bounded by: 16 rows of 64 bytes.
func tileRows(base, stride uint64, write bool) []Access {
	var out []Access
	for i := uint64(0); i < 16; i++ {
		out = append(out, Access{Addr: base + i*stride, Size: 64, Read: !write, Write: write, Partial: true})
	}
	return out
}

// TestOperands: the opcode, operands and memory size an emulator reads
// from an Inst are x86asm's, kept from the one decode; an instruction
// x86asm mis-decodes (a fixup) has none, so no emulator acts on them.
func TestOperands(t *testing.T) {
	reg := func(r x86asm.Reg) Operand { return Operand{Kind: OperandReg, Reg: r} }
	mem := Operand{Kind: OperandMem}
	imm := func(v int64) Operand { return Operand{Kind: OperandImm, Imm: v} }
	for _, tc := range []struct {
		hex  string
		op   x86asm.Op
		args []Operand
		mem  int
	}{
		{"490100", x86asm.ADD, []Operand{mem, reg(x86asm.RAX)}, 8},       // add %rax, (%r8)
		{"8b4708", x86asm.MOV, []Operand{reg(x86asm.EAX), mem}, 4},       // mov 8(%rdi), %eax
		{"c6000f", x86asm.MOV, []Operand{mem, imm(0x0f)}, 1},             // movb $0xf, (%rax)
		{"480fb10f", x86asm.CMPXCHG, []Operand{mem, reg(x86asm.RCX)}, 8}, // cmpxchg %rcx, (%rdi)
		{"c20800", x86asm.RET, []Operand{imm(8)}, 0},                     // ret $8
		{"ff10", x86asm.CALL, []Operand{mem}, 8},                         // call *(%rax)
		{"e800000000", x86asm.CALL, []Operand{{Kind: OperandOther}}, 0},  // call rel32
		{"f30f1efa", 0, nil, 0},                                          // endbr64: a fixup
	} {
		code, _ := hex.DecodeString(tc.hex)
		in, err := Decode(code, Mode64)
		if err != nil {
			t.Fatalf("%s: %v", tc.hex, err)
		}
		if in.Op() != tc.op || in.MemBytes() != tc.mem {
			t.Errorf("%s (%v): Op %v MemBytes %d, want %v %d", tc.hex, in, in.Op(), in.MemBytes(), tc.op, tc.mem)
		}
		for i := range 7 {
			want := Operand{}
			if i < len(tc.args) {
				want = tc.args[i]
			}
			if got := in.Operand(i); got != want {
				t.Errorf("%s (%v): Operand(%d) = %+v, want %+v", tc.hex, in, i, got, want)
			}
		}
	}
}
