package agentexpr

import (
	"errors"
	"testing"
)

// fuzzMem is a little memory for FuzzEval: a value at 0x1000, a string at
// 0x3000, and nothing elsewhere.
var fuzzMem = fakeMem{
	{0x1000, []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}},
	{0x3000, []byte("string\x00more")},
}

// printCtx is a Context and a Printer, with no variables and no
// collection: the shape of the server's context for conditions and
// dprintf.
type printCtx struct {
	bareCtx
	printed int
}

func (c *printCtx) Print(text []byte) error {
	c.printed += len(text)
	return nil
}

func addEvalSeeds(f *testing.F) {
	for _, tc := range evalCases {
		f.Add(mustAssemble(f, tc.code))
	}
	for _, c := range readGoldens(f) {
		exprs, _, err := c.exprs()
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range exprs {
			f.Add([]byte(e))
		}
	}
	f.Add(mustAssemble(f, `const16 0x3000; const8 0; const8 0; printf 1 "%-20.3s|%#x\x00"; end`))
	f.Add(mustAssemble(f, `const16 0x3000; const8 7; const8 0; const8 0; printf 2 "%s|%#o\x00"; goto 0`))
}

// FuzzEval: any code evaluates without panic, within the step, stack and
// output limits, to a value or an *EvalError; evaluating it again gives
// the same outcome; its disassembly assembles back to it.
func FuzzEval(f *testing.F) {
	addEvalSeeds(f)
	const maxSteps, maxOutput = 5000, 300
	f.Fuzz(func(t *testing.T, code []byte) {
		m := &Machine{MaxSteps: maxSteps, MaxOutput: maxOutput}
		ctx := &printCtx{bareCtx: bareCtx{mem: fuzzMem, regs: testRegs}}
		v, err := m.Eval(code, ctx)
		steps := m.Steps()
		if steps > maxSteps || (len(code) > 0 && steps == 0) {
			t.Fatalf("%d steps, limit %d", steps, maxSteps)
		}
		if ctx.printed > maxOutput {
			t.Fatalf("printed %d bytes, limit %d", ctx.printed, maxOutput)
		}
		// Buffers grow with the format and the output, within bounds
		// (append's growth).
		if cap(m.out) > 2*maxOutput+64 || cap(m.str) > 2*maxOutput+128 || cap(m.format) > 2*len(code)+8 {
			t.Fatalf("buffers of %d, %d, %d bytes", cap(m.out), cap(m.str), cap(m.format))
		}
		var ee *EvalError
		if err != nil && (!errors.As(err, &ee) || ee.PC < 0 || ee.PC > len(code)) {
			t.Fatalf("error %v (%T)", err, err)
		}
		if err != nil && v != 0 {
			t.Fatalf("value %#x with error %v", v, err)
		}
		again := &printCtx{bareCtx: ctx.bareCtx}
		v2, err2 := m.Eval(code, again)
		if v2 != v || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || m.Steps() != steps || again.printed != ctx.printed {
			t.Fatalf("second evaluation: %#x, %v, %d steps; first: %#x, %v, %d steps", v2, err2, m.Steps(), v, err, steps)
		}
		if err := m.Run(code, ctx); err != nil && !errors.As(err, &ee) {
			t.Fatalf("Run: %v (%T)", err, err)
		}
		text := Disassemble(code)
		if back, err := assemble(text); err == nil && string(back) != string(code) {
			t.Fatalf("% x disassembles as %q, which assembles as % x", code, text, back)
		}
	})
}
