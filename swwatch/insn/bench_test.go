package insn

import "testing"

// benchCode is a mix of what single-stepping typical code meets.
var benchCode = []string{
	"48 8b 44 24 08",          // mov 0x8(%rsp),%rax
	"48 89 47 08",             // mov %rax,0x8(%rdi)
	"48 01 c8",                // add %rcx,%rax
	"83 6f 04 01",             // subl $0x1,0x4(%rdi)
	"50",                      // push %rax
	"c3",                      // ret
	"e8 00 00 00 00",          // call
	"75 f0",                   // jne
	"f3 a4",                   // rep movsb
	"c5 fe 6f 07",             // vmovdqu (%rdi),%ymm0
	"62 e1 fe 28 6f 4c 16 fc", // vmovdqu64 -0x80(%rsi,%rdx),%ymm17
	"48 8b 05 10 00 00 00",    // mov 0x10(%rip),%rax
}

func benchInsts(b *testing.B) [][]byte {
	out := make([][]byte, len(benchCode))
	for i, s := range benchCode {
		out[i] = unhex(b, s)
	}
	return out
}

// BenchmarkDecodeAccesses: Decode (x86asm, uncached) + StepAccesses per
// instruction.
func BenchmarkDecodeAccesses(b *testing.B) {
	code := benchInsts(b)
	regs := baselineRegs()
	regs[RCX] = 3
	dst := make([]Access, 0, 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in, err := Decode(code[i%len(code)], Mode64)
		if err != nil {
			b.Fatal(err)
		}
		dst, _ = StepAccesses(in, &regs, dst[:0])
		i++
	}
}

// BenchmarkDecoderAccesses: the same through a Decoder's cache, as at
// each single-step of a loop.
func BenchmarkDecoderAccesses(b *testing.B) {
	code := benchInsts(b)
	regs := baselineRegs()
	regs[RCX] = 3
	dst := make([]Access, 0, 16)
	var dec Decoder
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in, err := dec.Decode(code[i%len(code)])
		if err != nil {
			b.Fatal(err)
		}
		dst, _ = StepAccesses(in, &regs, dst[:0])
		i++
	}
}
