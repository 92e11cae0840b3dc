package insn

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/internal/x86cpu"
)

// The hardware check: each instruction form below runs in the harness
// (testdata/harness.c) under ptrace, from a known state, once per group of
// four watched bytes and watch kind. Before each run the tracer restores
// the data and the registers, arms DR0-DR3 on four single bytes (RW=11
// access, then RW=01 write), single-steps the instruction, and reads DR6.
// Data breakpoints are traps, so DR6 after the step says which of the four
// bytes the instruction touched (docs/x86-debug-registers.md). The bytes
// watched cover every range StepAccesses predicts, 16 bytes either side,
// 48 bytes either side of RSP, and the effective address of memory
// operands that are predicted untouched (LEA, NOP, prefetches).
//
// A byte predicted written must fire the write watch; a byte predicted
// only read must fire the access watch and not the write watch; a byte
// predicted untouched must fire neither. Inside a Partial range any
// outcome is allowed, outside it none.

// Arena layout (offsets from the harness's region, below 2 GiB).
const (
	hwArenaSize = 0x10000
	hwCodeOff   = 0x10000
	hwRDI       = 0x1000
	hwRSI       = 0x2000
	hwRBX       = 0x3000
	hwFS        = 0x4000
	hwGS        = 0x4800
	hwR8        = 0x5000
	hwVec       = 0x6000 // R15: vector and mask inputs for setup code
	hwRBP       = 0x7000
	hwRSP       = 0x8000
)

// hwEnv is the state a case starts from; init functions adjust it.
type hwEnv struct {
	A    uint64 // arena address
	Inst uint64 // address of the instruction under test
	Next uint64 // address of the instruction after it
	mem  []byte
	regs map[Reg]uint64
}

func (e *hwEnv) put64(off int, vs ...uint64) {
	for i, v := range vs {
		binary.LittleEndian.PutUint64(e.mem[off+8*i:], v)
	}
}

func (e *hwEnv) put32(off int, vs ...uint32) {
	for i, v := range vs {
		binary.LittleEndian.PutUint32(e.mem[off+4*i:], v)
	}
}

type hwCase struct {
	name  string
	asm   string // the instruction under test
	setup string // run unwatched before it (loads vector registers, saves state)
	regs  map[Reg]uint64
	init  func(e *hwEnv)
	needs []x86cpu.Feature // what the CPU must have (CPUID) to run it, setup included
}

// Feature sets the cases need.
var (
	needAVX      = []x86cpu.Feature{x86cpu.AVX}
	needAVX2     = []x86cpu.Feature{x86cpu.AVX2}
	needF        = []x86cpu.Feature{x86cpu.AVX512F}
	needBW       = []x86cpu.Feature{x86cpu.AVX512F, x86cpu.AVX512BW}
	needVBMI2    = []x86cpu.Feature{x86cpu.AVX512F, x86cpu.AVX512VBMI2}
	needXSAVE    = []x86cpu.Feature{x86cpu.XSAVE, x86cpu.OSXSAVE}
	needXSAVEOPT = []x86cpu.Feature{x86cpu.XSAVE, x86cpu.OSXSAVE, x86cpu.XSAVEOPT}
	needXSAVEC   = []x86cpu.Feature{x86cpu.XSAVE, x86cpu.OSXSAVE, x86cpu.XSAVEC}
)

// farPointerRexW is the far pointer of a far CALL or JMP with REX.W:
// an m16:64 on Intel, an m16:32 on AMD, which ignores REX.W there.
func farPointerRexW(e *hwEnv) {
	if x86cpu.Host().Vendor == x86cpu.AMD {
		farPointer(4)(e)
		return
	}
	farPointer(8)(e)
}

// farPointer puts a far pointer (offset of size n, then selector 0x33,
// the 64-bit user code segment) at RDI that leads to the instruction
// after the one under test.
func farPointer(n int) func(e *hwEnv) {
	return func(e *hwEnv) {
		switch n {
		case 4:
			e.put32(hwRDI, uint32(e.Next))
		case 8:
			e.put64(hwRDI, e.Next)
		}
		binary.LittleEndian.PutUint16(e.mem[hwRDI+n:], 0x33)
	}
}

const (
	dfOn  = 0x602 // RFLAGS with DF
	zfOn  = 0x246 // RFLAGS with ZF
	allFF = 0xffffffffffffffff
)

// vecInit puts 32-bit gather indices at hwVec, a VEX mask vector at
// hwVec+64 and an opmask at hwVec+128.
func vecInit(idx []int32, mask []int32, k uint64) func(e *hwEnv) {
	return func(e *hwEnv) {
		for i, v := range idx {
			e.put32(hwVec+4*i, uint32(v))
		}
		for i, v := range mask {
			e.put32(hwVec+64+4*i, uint32(v))
		}
		e.put64(hwVec+128, k)
	}
}

func vecInit64(idx []int64, mask []int64) func(e *hwEnv) {
	return func(e *hwEnv) {
		for i, v := range idx {
			e.put64(hwVec+8*i, uint64(v))
		}
		for i, v := range mask {
			e.put64(hwVec+64+8*i, uint64(v))
		}
	}
}

func stackTop(vs ...uint64) func(e *hwEnv) {
	return func(e *hwEnv) { e.put64(hwRSP, vs...) }
}

var hwCases = []hwCase{
	// Plain loads, stores, read-modify-write.
	{name: "mov store", asm: "mov %rax, 8(%rdi)"},
	{name: "mov load", asm: "mov 8(%rdi), %eax"},
	{name: "movb imm", asm: "movb $1, (%rdi)"},
	{name: "movw unaligned", asm: "movw $1, 3(%rdi)"},
	{name: "add rmw", asm: "add %eax, (%rdi)"},
	{name: "sub imm rmw", asm: "subl $1, 4(%rdi)"},
	{name: "inc", asm: "incq (%rdi)"},
	{name: "neg", asm: "negl 2(%rdi)"},
	{name: "lock or", asm: "lock orl $1, (%rdi)"},
	{name: "cmp", asm: "cmpl $3, (%rdi)"},
	{name: "test", asm: "test %al, (%rdi)"},
	{name: "lea", asm: "lea 8(%rdi,%rsi,4), %rax"},
	{name: "sib index", asm: "mov (%rdi,%r8,2), %cx", regs: map[Reg]uint64{R8: 5}},
	{name: "movzx", asm: "movzbl 7(%rdi), %eax"},
	{name: "movsx", asm: "movswq 6(%rdi), %rax"},
	// CSV errata.
	{name: "sete", asm: "sete (%rdi)"},
	{name: "setne same value", asm: "setne 1(%rdi)", regs: map[Reg]uint64{RFLAGS: zfOn}},
	{name: "div", asm: "divl (%rdi)"},
	{name: "imul one operand", asm: "imull (%rdi)"},
	{name: "imul two operands", asm: "imul 4(%rdi), %eax"},
	{name: "rol", asm: "roll (%rdi)"},
	{name: "rcl", asm: "rclb $1, 3(%rdi)"},
	{name: "sbb", asm: "sbb %eax, (%rdi)"},
	{name: "shld", asm: "shld $3, %eax, (%rdi)"},
	{name: "shrd cl", asm: "shrd %cl, %eax, (%rdi)"},
	{name: "cmovne not taken", asm: "cmovne (%rdi), %eax", regs: map[Reg]uint64{RFLAGS: zfOn}},
	{name: "cmove taken", asm: "cmove (%rdi), %eax", regs: map[Reg]uint64{RFLAGS: zfOn}},
	// Bit strings.
	{name: "bt reg offset", asm: "bt %rax, (%rdi)", regs: map[Reg]uint64{RAX: 100}},
	{name: "bts negative offset", asm: "bts %ecx, 64(%rdi)", regs: map[Reg]uint64{RCX: 0xffffffd8}},
	{name: "btw reg offset", asm: "btw %ax, (%rdi)", regs: map[Reg]uint64{RAX: 33}},
	{name: "bt imm", asm: "btl $35, (%rdi)"},
	// Stack.
	{name: "push reg", asm: "push %rax"},
	{name: "pop reg", asm: "pop %rax"},
	{name: "pushw", asm: "pushw %ax"},
	{name: "push imm", asm: "push $7"},
	{name: "push mem", asm: "pushq 16(%rdi)"},
	{name: "pop mem", asm: "popq 8(%rdi)"},
	{name: "pop rsp-based", asm: "popq 8(%rsp)"},
	{name: "push rsp-based", asm: "pushq 8(%rsp)"},
	{name: "push fs", asm: "push %fs"},
	{name: "call rel", asm: "call 1f\n1:"},
	{name: "call mem", asm: "call *8(%rdi)", init: func(e *hwEnv) { e.put64(hwRDI+8, e.Inst) }},
	{name: "jmp mem", asm: "jmp *8(%rdi)", init: func(e *hwEnv) { e.put64(hwRDI+8, e.Inst) }},
	{name: "ret", asm: "ret", init: func(e *hwEnv) { e.put64(hwRSP, e.Inst) }},
	{name: "ret imm", asm: "ret $16", init: func(e *hwEnv) { e.put64(hwRSP, e.Inst) }},
	{name: "leave", asm: "leave"},
	{name: "pushf", asm: "pushfq"},
	{name: "popf", asm: "popfq", init: stackTop(0x202)},
	{name: "enter", asm: "enter $32, $0"},
	{name: "enter nested", asm: "enter $16, $3"},
	{name: "iretq", asm: "iretq", init: func(e *hwEnv) { e.put64(hwRSP, e.Inst, 0x33, 0x202, e.A+hwRSP, 0x2b) }},
	{name: "lret", asm: "lret", init: func(e *hwEnv) { e.put32(hwRSP, uint32(e.Inst), 0x33) }},
	{name: "lretq", asm: "lretq", init: func(e *hwEnv) { e.put64(hwRSP, e.Inst, 0x33) }},
	{name: "lretw", asm: "lretw", init: func(e *hwEnv) {
		binary.LittleEndian.PutUint16(e.mem[hwRSP:], uint16(e.Inst))
		binary.LittleEndian.PutUint16(e.mem[hwRSP+2:], 0x33)
	}},
	{name: "iretl", asm: "iretl", init: func(e *hwEnv) { e.put32(hwRSP, uint32(e.Inst), 0x33, 0x202, uint32(e.A+hwRSP), 0x2b) }},
	{name: "lcall", asm: "lcall *(%rdi)", init: farPointer(4)},
	{name: "ljmp", asm: "ljmp *(%rdi)", init: farPointer(4)},
	{name: "lcall rex.w", asm: "rex.W lcall *(%rdi)", init: farPointerRexW},
	{name: "ljmp rex.w", asm: "rex.W ljmp *(%rdi)", init: farPointerRexW},
	// Strings: one iteration per single-step.
	{name: "movsb", asm: "movsb"},
	{name: "movsq down", asm: "movsq", regs: map[Reg]uint64{RFLAGS: dfOn}},
	{name: "rep movsb", asm: "rep movsb"},
	{name: "rep movsq down", asm: "rep movsq", regs: map[Reg]uint64{RFLAGS: dfOn}},
	{name: "rep movsb rcx 0", asm: "rep movsb", regs: map[Reg]uint64{RCX: 0}},
	{name: "rep stosq", asm: "rep stosq"},
	{name: "stosw", asm: "stosw"},
	{name: "cmpsb", asm: "cmpsb"},
	{name: "repe cmpsb", asm: "repe cmpsb"},
	{name: "scasb", asm: "scasb"},
	{name: "repne scasl", asm: "repne scasl"},
	{name: "lodsq", asm: "lodsq"},
	{name: "movsb fs", asm: "movsb %fs:(%rsi), %es:(%rdi)", regs: map[Reg]uint64{RSI: 0x100}},
	{name: "addr32 rep movsb", asm: "addr32 rep movsb"},
	{name: "xlat", asm: "xlat"},
	// Atomics.
	{name: "xchg", asm: "xchg %rax, (%rdi)"},
	{name: "xchg reg first", asm: "xchg (%rdi), %eax"},
	{name: "cmpxchg fails", asm: "cmpxchg %ecx, (%rdi)"},
	{name: "lock cmpxchg succeeds", asm: "lock cmpxchg %ecx, (%rdi)", init: func(e *hwEnv) { e.put32(hwRDI, 0x11) }},
	{name: "lock xadd", asm: "lock xadd %eax, (%rdi)"},
	{name: "cmpxchg8b", asm: "cmpxchg8b (%rdi)"},
	{name: "lock cmpxchg16b", asm: "lock cmpxchg16b (%rdi)"},
	// SSE/AVX/AVX-512.
	{name: "movdqa load", asm: "movdqa (%rdi), %xmm0"},
	{name: "movups store", asm: "movups %xmm1, 1(%rdi)"},
	{name: "movhps store", asm: "movhps %xmm0, (%rdi)"},
	{name: "movhps load", asm: "movhps (%rdi), %xmm0"},
	{name: "movq mmx store", asm: "movq %mm0, (%rdi)"},
	{name: "pextrb store", asm: "pextrb $1, %xmm0, (%rdi)", needs: []x86cpu.Feature{x86cpu.SSE41}},
	{name: "vmovdqu ymm load", asm: "vmovdqu (%rdi), %ymm0", needs: needAVX},
	{name: "vmovdqu ymm store", asm: "vmovdqu %ymm2, 32(%rdi)", needs: needAVX},
	{name: "vmovdqu64 zmm store", asm: "vmovdqu64 %zmm1, (%rdi)", needs: needF},
	{name: "vmovdqu64 zmm load evex", asm: "vmovdqu64 (%rdi), %zmm17", needs: needF},
	{name: "vextracti128 store", asm: "vextracti128 $1, %ymm0, (%rdi)", needs: needAVX2},
	{name: "vpbroadcastd", asm: "vpbroadcastd (%rdi), %ymm0", needs: needAVX2},
	{name: "vaddps broadcast", asm: "vaddps 4(%rdi){1to16}, %zmm1, %zmm2", needs: needF},
	{name: "kmovw load", asm: "kmovw (%rdi), %k1", needs: needF},
	{name: "kmovq store", asm: "kmovq %k1, (%rdi)", needs: needBW},
	{name: "vpcmpeqb to k", asm: "vpcmpeqb (%rdi), %zmm0, %k1", needs: needBW},
	{name: "vpgatherdd ymm", setup: "vmovdqu (%r15), %ymm1\nvmovdqu 64(%r15), %ymm2",
		asm:  "vpgatherdd %ymm2, (%rdi,%ymm1,4), %ymm0",
		init: vecInit([]int32{0, 3, 10, -2, 7, 20, 1, 15}, []int32{-1, -1, -1, -1, -1, 0, -1, -1}, 0), needs: needAVX2},
	{name: "vpgatherqq xmm", setup: "vmovdqu (%r15), %xmm1\nvmovdqu 64(%r15), %xmm2",
		asm:  "vpgatherqq %xmm2, 8(%rdi,%xmm1,8), %xmm0",
		init: vecInit64([]int64{2, -1}, []int64{-1, -1}), needs: needAVX2},
	{name: "vpgatherdd zmm masked", setup: "vmovdqu64 (%r15), %zmm2\nkmovw 128(%r15), %k1",
		asm:  "vpgatherdd (%rdi,%zmm2,4), %zmm1{%k1}",
		init: vecInit([]int32{0, 1, 2, 3, 40, 41, 42, 43, -8, 9, 10, 11, 12, 13, 14, 60}, nil, 0xf0f3), needs: needF},
	{name: "vpscatterdd zmm masked", setup: "vmovdqu64 (%r15), %zmm2\nkmovw 128(%r15), %k1",
		asm:  "vpscatterdd %zmm1, (%rdi,%zmm2,4){%k1}",
		init: vecInit([]int32{0, 1, 2, 3, 40, 41, 42, 43, -8, 9, 10, 11, 12, 13, 14, 60}, nil, 0x8f31), needs: needF},
	{name: "vmovdqu8 masked store", setup: "kmovq 128(%r15), %k1",
		asm: "vmovdqu8 %zmm1, (%rdi){%k1}", init: vecInit(nil, nil, 0x00ff00000000f0f0), needs: needBW},
	{name: "vmovdqu8 masked load", setup: "kmovq 128(%r15), %k1",
		asm: "vmovdqu8 (%rdi), %zmm1{%k1}{z}", init: vecInit(nil, nil, 0x0ff000000000f0f0), needs: needBW},
	{name: "vmovdqu32 masked store", setup: "kmovq 128(%r15), %k1",
		asm: "vmovdqu32 %zmm1, 4(%rdi){%k1}", init: vecInit(nil, nil, 0x8421), needs: needF},
	{name: "vpcompressd", setup: "kmovq 128(%r15), %k1",
		asm: "vpcompressd %zmm1, (%rdi){%k1}", init: vecInit(nil, nil, 0x0f0f), needs: needF},
	{name: "vpexpandd", setup: "kmovq 128(%r15), %k1",
		asm: "vpexpandd (%rdi), %zmm1{%k1}", init: vecInit(nil, nil, 0x1111), needs: needF},
	{name: "vmaskmovps store", setup: "vmovdqu 64(%r15), %xmm2",
		asm: "vmaskmovps %xmm1, %xmm2, (%rdi)", init: vecInit(nil, []int32{-1, 0, -1, 0}, 0), needs: needAVX},
	{name: "vpmaskmovd load", setup: "vmovdqu 64(%r15), %xmm2",
		asm: "vpmaskmovd (%rdi), %xmm2, %xmm1", init: vecInit(nil, []int32{0, -1, -1, 0}, 0), needs: needAVX2},
	{name: "maskmovq", setup: "movq 64(%r15), %mm2",
		asm: "maskmovq %mm2, %mm1", init: vecInit(nil, []int32{0x80, 0}, 0)},
	{name: "maskmovdqu", setup: "movdqu 64(%r15), %xmm2",
		asm: "maskmovdqu %xmm2, %xmm1", init: vecInit(nil, []int32{-128, -0x80000000, 0, 0x00ff0080}, 0)},
	{name: "maskmovdqu zero mask", setup: "movdqu 64(%r15), %xmm2",
		asm: "maskmovdqu %xmm2, %xmm1", init: vecInit(nil, []int32{0, 0x7f7f7f7f, 0, 0}, 0)},
	{name: "maskmovq all", setup: "movq 64(%r15), %mm2",
		asm: "maskmovq %mm2, %mm1", init: vecInit(nil, []int32{-1, -0x7f7f7f80}, 0)},
	{name: "vpmaskmovd load zero mask", setup: "vmovdqu 64(%r15), %xmm2",
		asm: "vpmaskmovd (%rdi), %xmm2, %xmm1", init: vecInit(nil, []int32{0, 0, 0, 0}, 0), needs: needAVX2},
	{name: "vmaskmovps ymm load", setup: "vmovdqu 64(%r15), %ymm2",
		asm: "vmaskmovps 4(%rdi), %ymm2, %ymm1", init: vecInit(nil, []int32{-1, 0, 0, -1, -1, 0, 0, -1}, 0), needs: needAVX},
	{name: "vpmaskmovq store", setup: "vmovdqu 64(%r15), %ymm2",
		asm: "vpmaskmovq %ymm1, %ymm2, (%rdi)", init: vecInit64(nil, []int64{0, -1, 0, -1}), needs: needAVX2},
	{name: "vmovdqu8 masked store zero mask", setup: "kmovq 128(%r15), %k1",
		asm: "vmovdqu8 %zmm1, (%rdi){%k1}", init: vecInit(nil, nil, 0), needs: needBW},
	{name: "vmovdqu32 masked load zero mask", setup: "kmovw 128(%r15), %k1",
		asm: "vmovdqu32 (%rdi), %zmm1{%k1}", init: vecInit(nil, nil, 0), needs: needF},
	{name: "vmovdqu16 ymm masked store", setup: "kmovq 128(%r15), %k1",
		asm: "vmovdqu16 %ymm1, 2(%rdi){%k1}", init: vecInit(nil, nil, 0x8001), needs: append(needBW, x86cpu.AVX512VL)},
	{name: "vmovups xmm masked store", setup: "kmovw 128(%r15), %k1",
		asm: "vmovups %xmm1, (%rdi){%k1}", init: vecInit(nil, nil, 0x9), needs: []x86cpu.Feature{x86cpu.AVX512F, x86cpu.AVX512VL}},
	{name: "vmovsd masked store", setup: "kmovw 128(%r15), %k1",
		asm: "vmovsd %xmm1, 8(%rdi){%k1}", init: vecInit(nil, nil, 1), needs: needF},
	{name: "vmovsd masked store zero mask", setup: "kmovw 128(%r15), %k1",
		asm: "vmovsd %xmm1, 8(%rdi){%k1}", init: vecInit(nil, nil, 0), needs: needF},
	{name: "vpcompressd zero mask", setup: "kmovw 128(%r15), %k1",
		asm: "vpcompressd %zmm1, (%rdi){%k1}", init: vecInit(nil, nil, 0), needs: needF},
	{name: "vpexpandd zero mask", setup: "kmovw 128(%r15), %k1",
		asm: "vpexpandd (%rdi), %zmm1{%k1}", init: vecInit(nil, nil, 0), needs: needF},
	{name: "vcompressps ymm", setup: "kmovw 128(%r15), %k1",
		asm: "vcompressps %ymm1, 8(%rdi){%k1}", init: vecInit(nil, nil, 0xa5), needs: []x86cpu.Feature{x86cpu.AVX512F, x86cpu.AVX512VL}},
	{name: "vpcompressb", setup: "kmovq 128(%r15), %k1",
		asm: "vpcompressb %zmm1, 3(%rdi){%k1}", init: vecInit(nil, nil, 0x8000000000f00001), needs: append(needVBMI2, x86cpu.AVX512BW)},
	{name: "vpgatherdd zmm zero mask", setup: "vmovdqu64 (%r15), %zmm2\nkmovw 128(%r15), %k1",
		asm:  "vpgatherdd (%rdi,%zmm2,4), %zmm1{%k1}",
		init: vecInit([]int32{0, 1, 2, 3, 40, 41, 42, 43, -8, 9, 10, 11, 12, 13, 14, 60}, nil, 0), needs: needF},
	{name: "vpscatterdd zmm zero mask", setup: "vmovdqu64 (%r15), %zmm2\nkmovw 128(%r15), %k1",
		asm:  "vpscatterdd %zmm1, (%rdi,%zmm2,4){%k1}",
		init: vecInit([]int32{0, 1, 2, 3, 40, 41, 42, 43, -8, 9, 10, 11, 12, 13, 14, 60}, nil, 0), needs: needF},
	{name: "vpaddd masked load", setup: "kmovw 128(%r15), %k1",
		asm: "vpaddd (%rdi), %zmm1, %zmm2{%k1}", init: vecInit(nil, nil, 0x00f0), needs: needF},
	// Save areas.
	{name: "fxsave", asm: "fxsave (%rdi)"},
	{name: "fxsave64", asm: "fxsave64 (%rdi)"},
	{name: "fxrstor", setup: "fxsave (%rdi)", asm: "fxrstor (%rdi)"},
	{name: "xsave x87 sse avx", asm: "xsave (%rdi)", regs: map[Reg]uint64{RAX: 7, RDX: 0}, needs: needXSAVE},
	{name: "xsave all", asm: "xsave (%rdi)", regs: map[Reg]uint64{RAX: allFF, RDX: allFF}, needs: needXSAVE},
	{name: "xsave sse only", asm: "xsave (%rdi)", regs: map[Reg]uint64{RAX: 2, RDX: 0}, needs: needXSAVE},
	{name: "xsave avx only", asm: "xsave (%rdi)", regs: map[Reg]uint64{RAX: 4, RDX: 0}, needs: needXSAVE},
	{name: "xsave x87 only", asm: "xsave64 (%rdi)", regs: map[Reg]uint64{RAX: 1, RDX: 0}, needs: needXSAVE},
	{name: "xsaveopt", asm: "xsaveopt (%rdi)", regs: map[Reg]uint64{RAX: allFF, RDX: allFF}, needs: needXSAVEOPT},
	{name: "xsavec", asm: "xsavec (%rdi)", regs: map[Reg]uint64{RAX: allFF, RDX: allFF}, needs: needXSAVEC},
	{name: "xsave opmask only", setup: "kmovw 128(%r15), %k3", asm: "xsave (%rdi)", regs: map[Reg]uint64{RAX: 0x20, RDX: 0},
		init: vecInit(nil, nil, 0x1234), needs: append(needXSAVE, x86cpu.AVX512F)},
	{name: "xsave zmm_hi256 only", asm: "xsave (%rdi)", regs: map[Reg]uint64{RAX: 0x40, RDX: 0}, needs: append(needXSAVE, x86cpu.AVX512F)},
	{name: "xsave hi16_zmm only", asm: "xsave (%rdi)", regs: map[Reg]uint64{RAX: 0x80, RDX: 0}, needs: append(needXSAVE, x86cpu.AVX512F)},
	{name: "xsavec avx-512", setup: "kmovw 128(%r15), %k3\nvmovdqu64 (%r15), %zmm20", asm: "xsavec (%rdi)",
		regs: map[Reg]uint64{RAX: 0xe4, RDX: 0}, init: vecInit(nil, nil, 0x1234), needs: append(needXSAVEC, x86cpu.AVX512F)},
	{name: "xrstor", setup: "xsave (%rdi)", asm: "xrstor (%rdi)", regs: map[Reg]uint64{RAX: allFF, RDX: allFF},
		init: func(e *hwEnv) { clear(e.mem[hwRDI+512 : hwRDI+576]) }, needs: needXSAVE}, // XSAVE leaves the header but XSTATE_BV alone
	{name: "xrstor compacted", setup: "xsavec (%rdi)", asm: "xrstor (%rdi)", regs: map[Reg]uint64{RAX: allFF, RDX: allFF},
		init: func(e *hwEnv) { clear(e.mem[hwRDI+512 : hwRDI+576]) }, needs: needXSAVEC},
	{name: "fnstenv", asm: "fnstenv (%rdi)"},
	{name: "fldenv", setup: "fnstenv (%rdi)", asm: "fldenv (%rdi)"},
	{name: "fnsave", asm: "fnsave (%rdi)"},
	{name: "frstor", setup: "fnsave (%rdi)", asm: "frstor (%rdi)"},
	{name: "fldt", asm: "fldt (%rdi)"},
	{name: "fstpt", asm: "fstpt (%rdi)"},
	{name: "flds", asm: "flds (%rdi)"},
	{name: "fistpll", asm: "fistpll (%rdi)"},
	{name: "fnstcw", asm: "fnstcw (%rdi)"},
	{name: "fldcw", setup: "fnstcw (%rdi)", asm: "fldcw (%rdi)"},
	{name: "stmxcsr", asm: "stmxcsr (%rdi)"},
	{name: "ldmxcsr", setup: "stmxcsr (%rdi)", asm: "ldmxcsr (%rdi)"},
	// Addressing.
	{name: "rip-relative load", asm: "mov -0x8000(%rip), %rax"},
	{name: "rip-relative store", asm: "mov %eax, -0x7ff0(%rip)"},
	{name: "fs load", asm: "mov %fs:0x10, %rax"},
	{name: "fs base+reg", asm: "mov %fs:(%rax), %rcx"},
	{name: "gs store", asm: "mov %ecx, %gs:0x18"},
	{name: "addr32 load", asm: "mov 4(%edi), %eax"},
	// Hints and newer instructions.
	{name: "nop mem", asm: "nopl 8(%rdi)"},
	{name: "prefetcht0", asm: "prefetcht0 (%rdi)"},
	{name: "prefetchnta", asm: "prefetchnta (%rdi)"},
	{name: "prefetchw", asm: "prefetchw (%rdi)"},
	{name: "prefetch (3DNow)", asm: "prefetch (%rdi)", needs: []x86cpu.Feature{x86cpu.Prefetch3DNow}},
	{name: "clzero", asm: "clzero", init: func(e *hwEnv) { e.regs[RAX] = e.A + hwRDI + 0x45 }, needs: []x86cpu.Feature{x86cpu.CLZERO}},
	{name: "clflush", asm: "clflush (%rdi)"},
	{name: "clflush mid-line", asm: "clflush 37(%rdi)"},
	{name: "clflushopt", asm: "clflushopt (%rdi)", needs: []x86cpu.Feature{x86cpu.CLFLUSHOPT}},
	{name: "clwb", asm: "clwb (%rdi)", needs: []x86cpu.Feature{x86cpu.CLWB}},
	{name: "cldemote", asm: "cldemote (%rdi)"},
	{name: "endbr64", asm: "endbr64"},
	{name: "movbe load", asm: "movbe (%rdi), %eax", needs: []x86cpu.Feature{x86cpu.MOVBE}},
	{name: "movbe store", asm: "movbe %eax, (%rdi)", needs: []x86cpu.Feature{x86cpu.MOVBE}},
	{name: "crc32b", asm: "crc32b (%rdi), %eax", needs: []x86cpu.Feature{x86cpu.SSE42}},
	{name: "adcx", asm: "adcx (%rdi), %rax", needs: []x86cpu.Feature{x86cpu.ADX}},
	{name: "adox", asm: "adox (%rdi), %eax", needs: []x86cpu.Feature{x86cpu.ADX}},
	{name: "movdiri", asm: "movdiri %rax, (%rdi)", needs: []x86cpu.Feature{x86cpu.MOVDIRI}},
	{name: "movdir64b", asm: "movdir64b (%rsi), %rdi", needs: []x86cpu.Feature{x86cpu.MOVDIR64B}},
}

// hwDefaults is the register state every case starts from.
func hwDefaults(a uint64) map[Reg]uint64 {
	m := map[Reg]uint64{
		RAX: 0x11, RCX: 4, RDX: 0, RBX: a + hwRBX, RSP: a + hwRSP, RBP: a + hwRBP,
		RSI: a + hwRSI, RDI: a + hwRDI, RFLAGS: 0x202, FSBase: a + hwFS, GSBase: a + hwGS,
		R15: a + hwVec,
	}
	for r := R8; r <= R14; r++ {
		m[r] = a + hwR8 + 0x100*uint64(r-R8)
	}
	return m
}

func TestHardwareAccesses(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86-64 only")
	}
	needTool(t, "gcc", "as")
	harness := buildC(t, "harness.c", "-O1")
	snips := make([]string, 0, 2*len(hwCases))
	for _, c := range hwCases {
		snips = append(snips, c.setup, c.asm)
	}
	code := assemble(t, snips)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tr := startTracee(t, harness)
	defer tr.kill()
	if err := tr.cont(); err != nil {
		t.Fatalf("harness int3: %v", err)
	}
	start, err := tr.regs()
	if err != nil {
		t.Fatal(err)
	}
	h := &hwRunner{t: t, tr: tr, start: start, a: start.Rax}
	cpu := x86cpu.Host()
	t.Logf("CPU: %v", cpu)
	forms, runs := 0, 0
	var skipped []string
	for i, c := range hwCases {
		if missing := missingFeatures(cpu, c.needs); missing != "" {
			skipped = append(skipped, fmt.Sprintf("%s (no %s)", c.name, missing))
			continue
		}
		n, err := h.check(c, code[2*i], code[2*i+1])
		runs += n
		if err != nil {
			t.Errorf("%s (%s): %v", c.name, strings.ReplaceAll(c.asm, "\n", "; "), err)
			continue
		}
		forms++
	}
	t.Logf("%d instruction forms agree with the hardware (%d single-steps)", forms, runs)
	if len(skipped) > 0 {
		t.Logf("skipped %d forms this CPU cannot run: %s", len(skipped), strings.Join(skipped, ", "))
	}
}

// missingFeatures names the features of needs that cpu lacks (or whose
// state the OS left disabled), or "".
func missingFeatures(cpu *x86cpu.CPU, needs []x86cpu.Feature) string {
	var miss []string
	for _, f := range needs {
		if !cpu.Usable(f) {
			miss = append(miss, f.String())
		}
	}
	return strings.Join(miss, ", ")
}

type hwRunner struct {
	t     *testing.T
	tr    *tracee
	start unix.PtraceRegs
	a     uint64 // arena address
}

// prepare restores the arena and registers for c, runs its setup, and
// returns the state just before the instruction under test.
func (h *hwRunner) prepare(c hwCase, e *hwEnv, setup bool) (*ptraceRegs, error) {
	if err := h.tr.write(h.a, e.mem); err != nil {
		return nil, err
	}
	g := h.start
	for r, v := range e.regs {
		setReg(&g, r, v)
	}
	codeAddr := h.a + hwCodeOff
	setReg(&g, RIP, e.Inst)
	if setup {
		setReg(&g, RIP, codeAddr)
	}
	if err := h.tr.setRegs(&g); err != nil {
		return nil, fmt.Errorf("set registers: %w", err)
	}
	if setup {
		if err := h.tr.cont(); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	r, err := h.tr.regs()
	if err != nil {
		return nil, err
	}
	if r.Rip != e.Inst {
		return nil, fmt.Errorf("before the step: rip %#x, want %#x", r.Rip, e.Inst)
	}
	x, err := h.tr.xstate()
	if err != nil {
		return nil, err
	}
	return &ptraceRegs{r: r, xstate: x}, nil
}

func (h *hwRunner) check(c hwCase, setup, inst []byte) (runs int, err error) {
	codeAddr := h.a + hwCodeOff
	e := &hwEnv{A: h.a, Inst: codeAddr, mem: make([]byte, hwArenaSize), regs: hwDefaults(h.a)}
	for i := range e.mem {
		e.mem[i] = byte(i*7 + 3)
	}
	var code []byte
	if len(setup) > 0 {
		code = append(append(code, setup...), 0xcc)
		e.Inst = codeAddr + uint64(len(code))
	}
	e.Next = e.Inst + uint64(len(inst))
	code = append(append(code, inst...), 0xcc)
	if err := h.tr.write(codeAddr, code); err != nil {
		return 0, err
	}
	for r, v := range c.regs {
		e.regs[r] = v
	}
	if c.init != nil {
		c.init(e)
	}

	pre, err := h.prepare(c, e, len(setup) > 0)
	if err != nil {
		return 0, err
	}
	in, err := Decode(inst, Mode64)
	if err != nil {
		return 0, err
	}
	if in.Len != len(inst) {
		return 0, fmt.Errorf("decoded length %d, assembled %d", in.Len, len(inst))
	}
	pred, err := StepAccesses(in, pre, nil)
	if err != nil {
		return 0, err
	}

	// The bytes to watch.
	cand := map[uint64]bool{}
	addWin := func(lo, hi uint64) {
		for b := lo; b < hi; b++ {
			cand[b] = true
		}
	}
	for _, a := range pred {
		if a.Size > 1<<14 {
			return 0, fmt.Errorf("range %v too large to check", a)
		}
		addWin(a.Addr-16, a.End()+16)
	}
	for _, ea := range probeAddrs(&in, pre) {
		addWin(ea-16, ea+80)
	}
	addWin(pre.r.Rsp-48, pre.r.Rsp+48)
	bytes := make([]uint64, 0, len(cand))
	for b := range cand {
		bytes = append(bytes, b)
	}
	slices.Sort(bytes)

	accessed, written := map[uint64]bool{}, map[uint64]bool{}
	for _, mode := range []hwbp.Cond{hwbp.CondAccess, hwbp.CondWrite} {
		for i := 0; i < len(bytes); i += 4 {
			group := bytes[i:min(i+4, len(bytes))]
			if _, err := h.prepare(c, e, len(setup) > 0); err != nil {
				return runs, err
			}
			if err := h.tr.watch(group, mode); err != nil {
				return runs, err
			}
			runs++
			if err := h.tr.step(); err != nil {
				return runs, err
			}
			dr6, err := h.tr.peekDebug(dr6Index)
			if err != nil {
				return runs, err
			}
			if err := h.tr.unwatch(); err != nil {
				return runs, err
			}
			for j, b := range group {
				if fired(dr6, j) {
					if mode == hwbp.CondAccess {
						accessed[b] = true
					} else {
						written[b] = true
					}
				}
			}
		}
	}
	if in.Flow == FlowNext && in.Effects&EffRep == 0 {
		r, err := h.tr.regs()
		if err == nil && r.Rip != e.Inst+uint64(in.Len) {
			return runs, fmt.Errorf("after the step: rip %#x, want %#x", r.Rip, e.Inst+uint64(in.Len))
		}
	}
	return runs, compareHW(h.a, pred, bytes, accessed, written)
}

// compareHW checks the observations against the prediction and describes
// every disagreement as arena-relative byte ranges.
func compareHW(arena uint64, pred []Access, bytes []uint64, accessed, written map[uint64]bool) error {
	var bad []string
	var last string
	var lo, hi uint64
	flush := func() {
		if last != "" {
			bad = append(bad, fmt.Sprintf("%s at +%#x..+%#x", last, lo-arena, hi-arena))
		}
		last = ""
	}
	for _, b := range bytes {
		var r, w, partial bool
		for _, a := range pred {
			if b >= a.Addr && b < a.End() {
				r = r || a.Read
				w = w || a.Write
				partial = partial || a.Partial
			}
		}
		msg := ""
		switch {
		case partial:
			// anything goes inside a bound
		case w && !written[b]:
			msg = "predicted write, hardware saw none"
		case !w && written[b]:
			msg = "hardware saw a write, none predicted"
		case r && !w && !accessed[b]:
			msg = "predicted read, hardware saw no access"
		case !r && !w && accessed[b]:
			msg = "hardware saw an access, none predicted"
		}
		if msg != last || b != hi {
			flush()
			if msg != "" {
				last, lo = msg, b
			}
		}
		hi = b + 1
	}
	flush()
	if len(bad) > 0 {
		return fmt.Errorf("predicted %v; %s", relAccesses(arena, pred), strings.Join(bad, "; "))
	}
	return nil
}

func relAccesses(arena uint64, pred []Access) string {
	var s []string
	for _, a := range pred {
		a.Addr -= arena
		s = append(s, "+"+a.String()[strings.Index(a.String(), " ")+1:]+" "+a.String()[:strings.Index(a.String(), " ")])
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// probeAddrs gives the effective addresses of in's memory operands,
// including those Accesses reports as untouched (LEA, NOP, prefetches),
// so that the hardware check watches them too.
func probeAddrs(in *Inst, regs Registers) []uint64 {
	var out []uint64
	for i := range in.mem[:in.nmem] {
		m := &in.mem[i]
		if m.vindex || m.base > RIP && m.base != regNone {
			continue
		}
		out = append(out, in.addr(m, regs))
	}
	return out
}
