package insn

import (
	"encoding/binary"

	"gdbserverx/internal/x86cpu"
)

// Made-up CPUs for the table tests, each described by the CPUID answers
// of a real model: where an instruction's accesses depend on the CPU, a
// table case says what each of them gives. The hardware check
// (hwcheck_test.go) tests the machine the tests run on.

// testCPU answers CPUID like a CPU of vendor id with AVX-512 and the
// given XSAVE components (number: size, standard offset), XCR0 0xe7.
func testCPU(id string, comps map[int][2]uint32) *x86cpu.CPU {
	word := func(i int) uint32 { return binary.LittleEndian.Uint32([]byte(id)[i:]) }
	var supported uint64 = 3
	for i := range comps {
		supported |= 1 << i
	}
	f := func(leaf, sub uint32) (a, b, c, d uint32) {
		switch leaf {
		case 0:
			return 0xd, word(0), word(8), word(4)
		case 1:
			return 0x00a00f11, 0, 1<<19 | 1<<20 | 1<<22 | 1<<26 | 1<<27 | 1<<28, 1<<23 | 1<<24 | 1<<26
		case 7:
			return 0, 1<<5 | 1<<16 | 1<<17 | 1<<19 | 1<<23 | 1<<24 | 1<<30 | 1<<31, 1 << 6, 0
		case 0xd:
			switch sub {
			case 0:
				return uint32(supported), 0, 0, uint32(supported >> 32)
			case 1:
				return 0xb, 0, 0, 0
			}
			if c, ok := comps[int(sub)]; ok {
				return c[0], c[1], 0, 0
			}
		}
		return 0, 0, 0, 0
	}
	return x86cpu.FromCPUID(f, 0xe7)
}

var (
	// intelCPU: a Xeon (Skylake-SP): MPX at 960-1087, so the AVX-512
	// opmask at 1088.
	intelCPU = testCPU("GenuineIntel", map[int][2]uint32{
		2: {256, 576}, 3: {64, 960}, 4: {64, 1024}, 5: {64, 1088}, 6: {512, 1152}, 7: {1024, 1664}, 9: {8, 2688},
	})
	// amdCPU: an EPYC (Zen 4): no MPX, the opmask at 832.
	amdCPU = testCPU("AuthenticAMD", map[int][2]uint32{
		2: {256, 576}, 5: {64, 832}, 6: {512, 896}, 7: {1024, 1408}, 9: {8, 2432},
	})
	// otherCPU: another vendor, with Intel's layout.
	otherCPU = testCPU("CentaurHauls", map[int][2]uint32{
		2: {256, 576}, 5: {64, 1088}, 6: {512, 1152}, 7: {1024, 1664},
	})
)
