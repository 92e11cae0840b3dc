package insn

import (
	"testing"
)

// FuzzDecode: arbitrary bytes never panic Decode, Accesses, StepAccesses
// (on this CPU and on the made-up Intel, AMD and other-vendor ones) or
// the formatting, the results respect the instruction-length limit, and
// a Decoder gives what Decode gives.
func FuzzDecode(f *testing.F) {
	for _, c := range accessCases {
		f.Add(unhex(f, c.code))
	}
	for _, s := range []string{"f3 0f 1e fa", "0f 01 ee", "66 0f 38 f8 3e", "62 f2 7d 49 a0 0c 97", "c4 e2 e9 91 44 cf 08", "f0 48 0f c7 0f",
		"c4 e2 7b 4b 0c 37", "f2 0f 38 f8 3e", "48 ff 1f", "66 0f f7 d1"} {
		f.Add(unhex(f, s))
	}
	var dec Decoder
	f.Fuzz(func(t *testing.T, code []byte) {
		in, err := Decode(code, Mode64)
		in2, err2 := dec.Decode(code)
		if (err == nil) != (err2 == nil) || err == nil && in != in2 {
			t.Fatalf("% x: Decoder %v, %v; Decode %v, %v", code, in2, err2, in, err)
		}
		if err != nil {
			return
		}
		if in.Len < 1 || in.Len > MaxLen || in.Len > len(code) {
			t.Fatalf("% x: Len %d", code, in.Len)
		}
		_ = in.String()
		_ = in.Mnemonic()
		base := baselineRegs()
		regs := []Registers{&base, &vecRegs{fakeRegs: base, k: [8]uint64{1, 0xffff, 0x5555, 0, 1 << 63, 7, 0xff00ff, ^uint64(0)}}}
		for _, rg := range regs {
			in.BranchTarget(rg)
			for _, m := range []Machine{Host(), On(intelCPU), On(amdCPU), On(otherCPU)} {
				for _, f := range []func(Inst, Registers, []Access) ([]Access, error){m.Accesses, m.StepAccesses} {
					acc, err := f(in, rg, nil)
					if err != nil {
						continue
					}
					for _, a := range acc {
						if a.Size <= 0 || a.Size > maxRange || !a.Read && !a.Write {
							t.Fatalf("% x (%v) on %v: bad access %v", code, in, m.CPU().Vendor, a)
						}
					}
				}
			}
		}
	})
}
