package agentexpr

import (
	"encoding/binary"
	"errors"
	"testing"
)

// frameCtx is the fastest Context a server could give: one register and
// one 32-bit variable of a stopped thread, as in `break f if i == 150`.
type frameCtx struct {
	rbp uint64
	i   uint32
	out int
}

func (c *frameCtx) ReadMemory(addr uint64, buf []byte) (int, error) {
	if addr != c.rbp-4 || len(buf) != 4 {
		return 0, errors.New("unmapped")
	}
	binary.LittleEndian.PutUint32(buf, c.i)
	return 4, nil
}

func (c *frameCtx) Register(n int) (uint64, error) {
	if n != 6 {
		return 0, errors.New("no register")
	}
	return c.rbp, nil
}

func (c *frameCtx) Print(text []byte) error {
	c.out += len(text)
	return nil
}

// goldenExpr returns the first expression of a golden case.
func goldenExpr(tb testing.TB, name string) []byte {
	for _, c := range readGoldens(tb) {
		if c.name == name {
			exprs, _, err := c.exprs()
			if err != nil {
				tb.Fatal(err)
			}
			return exprs[0]
		}
	}
	tb.Fatalf("no golden case %s", name)
	return nil
}

// BenchmarkEvalCondition: gdb 13's bytecode for `break f if i == 150`
// (reg 6; const8 16; add; const8 236; ext 8; add; ref32; ext 32;
// const16 150; equal; end), evaluated false, as at most hits.
func BenchmarkEvalCondition(b *testing.B) {
	code := goldenExpr(b, "equal")
	ctx := &frameCtx{rbp: 0x7fffffffe620, i: 7}
	var m Machine
	b.ReportAllocs()
	for b.Loop() {
		if v, err := m.Eval(code, ctx); err != nil || v != 0 {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkEvalDprintf: `dprintf f,"i=%d\n", i` as gdb 13 compiles it
// (the conditional dprintf case's command).
func BenchmarkEvalDprintf(b *testing.B) {
	var code []byte
	for _, c := range readGoldens(b) {
		if c.name == "dprintf-condition" {
			exprs, _, _ := c.exprs()
			code = exprs[1]
		}
	}
	ctx := &frameCtx{rbp: 0x7fffffffe620, i: 150}
	var m Machine
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Run(code, ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEvalAllocs: a reused Machine allocates nothing to evaluate a
// condition or, once its buffers have grown, a dprintf.
func TestEvalAllocs(t *testing.T) {
	var m Machine
	ctx := &frameCtx{rbp: 0x7fffffffe620, i: 150}
	cond := goldenExpr(t, "equal")
	if n := testing.AllocsPerRun(100, func() { m.Eval(cond, ctx) }); n != 0 {
		t.Errorf("%v allocations per condition", n)
	}
	var cmd []byte
	for _, c := range readGoldens(t) {
		if c.name == "dprintf-condition" {
			exprs, _, _ := c.exprs()
			cmd = exprs[1]
		}
	}
	if n := testing.AllocsPerRun(100, func() { m.Run(cmd, ctx) }); n != 0 {
		t.Errorf("%v allocations per dprintf", n)
	}
	if ctx.out == 0 {
		t.Error("the dprintf printed nothing")
	}
}
