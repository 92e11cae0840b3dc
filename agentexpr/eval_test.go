package agentexpr

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// testMem holds a 64-bit value at 0x1000 (little-endian 0x8877665544332211
// followed by 0xff), and nothing at 0x2000.
var testMem = fakeMem{
	{0x1000, []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xff}},
	{0x3000, []byte("hello\x00")},
}

var testRegs = map[int]uint64{0: 0x1122334455667788, 6: 0x7ffe0000, 57: 0xffffffff}

type evalCase struct {
	name string
	code string // assembled
	want uint64
	err  error // errors.Is; nil: success with want
	pc   int   // with err: the PC of the EvalError
	full bool  // evaluate with fullCtx (variables, collection, printing)
	log  string
	out  string
}

const minInt64 = 1 << 63

// evalCases cover every bytecode: its result, and its errors.
var evalCases = []evalCase{
	{name: "add", code: "const8 2; const8 3; add; end", want: 5},
	{name: "add wraps", code: "const64 0xffffffffffffffff; const8 2; add; end", want: 1},
	{name: "add underflow", code: "const8 2; add; end", err: ErrStackUnderflow, pc: 2},
	{name: "sub", code: "const8 2; const8 3; sub; end", want: math.MaxUint64},
	{name: "sub order", code: "const8 9; const8 3; sub; end", want: 6},
	{name: "mul", code: "const32 0x10000; const32 0x10000; mul; end", want: 1 << 32},
	{name: "mul wraps", code: "const64 0x8000000000000000; const8 2; mul; end", want: 0},
	{name: "div_signed", code: "const8 249; ext 8; const8 2; div_signed; end", want: u(-3)},
	{name: "div_signed negative divisor", code: "const8 7; const8 254; ext 8; div_signed; end", want: u(-3)},
	{name: "div_signed overflow", code: "const64 0x8000000000000000; const8 255; ext 8; div_signed; end", want: minInt64},
	{name: "div_signed by zero", code: "const8 1; const8 0; div_signed; end", err: ErrDivideByZero, pc: 4},
	{name: "div_unsigned", code: "const8 249; ext 8; const8 2; div_unsigned; end", want: (math.MaxUint64 - 6) / 2},
	{name: "div_unsigned by zero", code: "const8 1; const8 0; div_unsigned; end", err: ErrDivideByZero, pc: 4},
	{name: "rem_signed", code: "const8 249; ext 8; const8 2; rem_signed; end", want: u(-1)},
	{name: "rem_signed negative divisor", code: "const8 7; const8 254; ext 8; rem_signed; end", want: 1},
	{name: "rem_signed overflow", code: "const64 0x8000000000000000; const8 255; ext 8; rem_signed; end", want: 0},
	{name: "rem_signed by zero", code: "const8 1; const8 0; rem_signed; end", err: ErrDivideByZero, pc: 4},
	{name: "rem_unsigned", code: "const8 249; ext 8; const8 10; rem_unsigned; end", want: (math.MaxUint64 - 6) % 10},
	{name: "rem_unsigned by zero", code: "const8 1; const8 0; rem_unsigned; end", err: ErrDivideByZero, pc: 4},
	{name: "div underflow", code: "const8 0; div_signed; end", err: ErrStackUnderflow, pc: 2},
	{name: "lsh", code: "const8 1; const8 3; lsh; end", want: 8},
	{name: "lsh 63", code: "const8 3; const8 63; lsh; end", want: 1 << 63},
	{name: "lsh 64 is lsh 0", code: "const8 1; const8 64; lsh; end", want: 1},
	{name: "lsh 65 is lsh 1", code: "const8 1; const8 65; lsh; end", want: 2},
	{name: "lsh huge count", code: "const8 1; const64 0xffffffffffffffc1; lsh; end", want: 2},
	{name: "rsh_signed", code: "const8 240; ext 8; const8 2; rsh_signed; end", want: u(-4)},
	{name: "rsh_signed 63", code: "const64 0x8000000000000000; const8 63; rsh_signed; end", want: math.MaxUint64},
	{name: "rsh_signed 70 is 6", code: "const16 0x8000; ext 16; const8 70; rsh_signed; end", want: u(-512)},
	{name: "rsh_unsigned", code: "const64 0x8000000000000000; const8 63; rsh_unsigned; end", want: 1},
	{name: "rsh_unsigned 64 is 0", code: "const8 200; const8 64; rsh_unsigned; end", want: 200},
	{name: "log_not 0", code: "const8 0; log_not; end", want: 1},
	{name: "log_not 5", code: "const8 5; log_not; end", want: 0},
	{name: "log_not underflow", code: "log_not; end", err: ErrStackUnderflow, pc: 0},
	{name: "bit_and", code: "const8 0xc; const8 0xa; bit_and; end", want: 8},
	{name: "bit_or", code: "const8 0xc; const8 0xa; bit_or; end", want: 0xe},
	{name: "bit_xor", code: "const8 0xc; const8 0xa; bit_xor; end", want: 6},
	{name: "bit_not", code: "const8 0; bit_not; end", want: math.MaxUint64},
	{name: "equal", code: "const8 7; const8 7; equal; end", want: 1},
	{name: "not equal", code: "const8 7; const8 8; equal; end", want: 0},
	{name: "less_signed", code: "const8 255; ext 8; const8 1; less_signed; end", want: 1},
	{name: "less_signed equal", code: "const8 1; const8 1; less_signed; end", want: 0},
	{name: "less_unsigned", code: "const8 255; ext 8; const8 1; less_unsigned; end", want: 0},
	{name: "less_unsigned true", code: "const8 1; const8 255; ext 8; less_unsigned; end", want: 1},
	{name: "ext 8 negative", code: "const8 0x80; ext 8; end", want: 0xffffffffffffff80},
	{name: "ext 8 drops high bits", code: "const16 0x17f; ext 8; end", want: 0x7f},
	{name: "ext 32", code: "const32 0xffffffff; ext 32; end", want: math.MaxUint64},
	{name: "ext 1", code: "const8 1; ext 1; end", want: math.MaxUint64},
	{name: "ext 63", code: "const64 0x4000000000000000; ext 63; end", want: 0xc000000000000000},
	{name: "ext 64 no effect", code: "const32 0xffffffff; ext 64; end", want: 0xffffffff},
	{name: "ext 255 no effect", code: "const32 0xffffffff; ext 255; end", want: 0xffffffff},
	{name: "ext 0", code: "const8 0xff; ext 0; end", want: 0},
	{name: "zero_ext 8", code: "const8 0xff; ext 8; zero_ext 8; end", want: 0xff},
	{name: "zero_ext 33", code: "const64 0xffffffffffffffff; zero_ext 33; end", want: 1<<33 - 1},
	{name: "zero_ext 64 no effect", code: "const64 0xffffffffffffffff; zero_ext 64; end", want: math.MaxUint64},
	{name: "zero_ext 0", code: "const8 0xff; zero_ext 0; end", want: 0},
	{name: "ref8", code: "const16 0x1007; ref8; end", want: 0x88},
	{name: "ref16", code: "const16 0x1000; ref16; end", want: 0x2211},
	{name: "ref16 unaligned", code: "const16 0x1001; ref16; end", want: 0x3322},
	{name: "ref32", code: "const16 0x1000; ref32; end", want: 0x44332211},
	{name: "ref64", code: "const16 0x1000; ref64; end", want: 0x8877665544332211},
	{name: "ref64 unaligned", code: "const16 0x1001; ref64; end", want: 0xff88776655443322},
	{name: "ref64 past the end", code: "const16 0x1002; ref64; end", err: errUnmapped, pc: 3},
	{name: "ref8 unmapped", code: "const16 0x2000; ref8; end", err: errUnmapped, pc: 3},
	{name: "ref32 underflow", code: "ref32; end", err: ErrStackUnderflow},
	{name: "float", code: "float; end", err: ErrUnhandledOpcode},
	{name: "ref_float", code: "const16 0x1000; ref_float; end", err: ErrUnhandledOpcode, pc: 3},
	{name: "ref_double", code: "const16 0x1000; ref_double; end", err: ErrUnhandledOpcode, pc: 3},
	{name: "ref_long_double", code: "const16 0x1000; ref_long_double; end", err: ErrUnhandledOpcode, pc: 3},
	{name: "l_to_d", code: "const8 1; l_to_d; end", err: ErrUnhandledOpcode, pc: 2},
	{name: "d_to_l", code: "const8 1; d_to_l; end", err: ErrUnhandledOpcode, pc: 2},
	{name: "if_goto taken", code: "const8 1; if_goto 8; const8 5; end; const8 6; end", want: 6},
	{name: "if_goto not taken", code: "const8 0; if_goto 8; const8 5; end; const8 6; end", want: 5},
	{name: "if_goto pops", code: "const8 9; const8 1; if_goto 8; end; end", want: 9},
	{name: "if_goto out of range", code: "const8 1; if_goto 6; end", err: ErrInvalidGoto, pc: 2},
	{name: "if_goto out of range not taken", code: "const8 7; const8 0; if_goto 600; end", want: 7},
	{name: "if_goto underflow", code: "if_goto 0; end", err: ErrStackUnderflow},
	{name: "goto", code: "goto 5; const8 1; const8 2; end", want: 2},
	{name: "goto into an operand", code: "const8 7; goto 6; const8 0x27", want: 7}, // 0x27 is end
	{name: "goto out of range", code: "goto 4; end", err: ErrInvalidGoto},
	{name: "goto loop", code: "goto 0", err: ErrStepLimit},
	{name: "const8", code: "const8 0xff; end", want: 0xff},
	{name: "const16", code: "const16 0x8001; end", want: 0x8001},
	{name: "const32", code: "const32 0x80000001; end", want: 0x80000001},
	{name: "const64", code: "const64 0x8000000000000001; end", want: 0x8000000000000001},
	{name: "reg", code: "reg 6; end", want: 0x7ffe0000},
	{name: "reg 0", code: "reg 0; end", want: 0x1122334455667788},
	{name: "reg 57", code: "reg 57; end", want: 0xffffffff},
	{name: "reg missing", code: "reg 300; end", err: errNoRegister},
	{name: "end returns the top", code: "const8 1; const8 2; end", want: 2},
	{name: "end with an empty stack", code: "end", err: ErrEmptyStack},
	{name: "end stops", code: "const8 1; end; bit_not; end", want: 1},
	{name: "dup", code: "const8 3; dup; add; end", want: 6},
	{name: "dup underflow", code: "dup; end", err: ErrStackUnderflow},
	{name: "pop", code: "const8 1; const8 2; pop; end", want: 1},
	{name: "pop underflow", code: "pop; const8 1; end", err: ErrStackUnderflow},
	{name: "swap", code: "const8 9; const8 3; swap; sub; end", want: u(-6)},
	{name: "swap underflow", code: "const8 1; swap; end", err: ErrStackUnderflow, pc: 2},
	{name: "pick 0", code: "const8 1; const8 2; pick 0; end", want: 2},
	{name: "pick 2", code: "const8 1; const8 2; const8 3; pick 2; end", want: 1},
	{name: "pick 2 keeps the stack", code: "const8 1; const8 2; const8 3; pick 2; pop; end", want: 3},
	{name: "pick too deep", code: "const8 1; const8 2; pick 2; end", err: ErrStackUnderflow, pc: 4},
	{name: "pick 255", code: "const8 1; pick 255; end", err: ErrStackUnderflow, pc: 2},
	{name: "rot top", code: "const8 1; const8 2; const8 3; rot; end", want: 2},
	{name: "rot second", code: "const8 1; const8 2; const8 3; rot; pop; end", want: 1},
	{name: "rot third", code: "const8 1; const8 2; const8 3; rot; pop; pop; end", want: 3},
	{name: "rot underflow", code: "const8 1; const8 2; rot; end", err: ErrStackUnderflow, pc: 4},
	{name: "getv without variables", code: "getv 3; end", want: 0},
	{name: "setv without variables", code: "const8 5; setv 3; end", want: 5},
	{name: "getv", code: "getv 1; end", want: 11, full: true},
	{name: "getv unknown", code: "getv 2; end", err: errors.New("no variable 2"), full: true},
	{name: "setv then getv", code: "const8 5; setv 3; pop; getv 3; end", want: 5, full: true},
	{name: "setv underflow", code: "setv 3; end", err: ErrStackUnderflow},
	{name: "trace", code: "const8 9; const16 0x1000; const8 4; trace; end", want: 9, full: true, log: "memory 0x1000 4"},
	{name: "trace bare", code: "const8 9; const16 0x1000; const8 4; trace; end", want: 9},
	{name: "trace underflow", code: "const8 4; trace; end", err: ErrStackUnderflow, pc: 2},
	{name: "trace_quick", code: "const16 0x1000; trace_quick 8; end", want: 0x1000, full: true, log: "memory 0x1000 8"},
	{name: "trace16", code: "const16 0x1000; trace16 0x1234; end", want: 0x1000, full: true, log: "memory 0x1000 4660"},
	{name: "trace16 bare", code: "const16 0x1000; trace16 0x1234; end", want: 0x1000},
	{name: "tracenz", code: "const8 9; const16 0x3000; const8 100; tracenz; end", want: 9, full: true, log: "string 0x3000 100"},
	{name: "tracev", code: "const8 9; tracev 7; end", want: 9, full: true, log: "variable 7"},
	{name: "tracev bare", code: "const8 9; tracev 7; end", want: 9},
	{name: "invalid2", code: "const8 1; invalid2; end", err: ErrUnrecognizedOpcode, pc: 2},
	{name: "opcode 0", code: "op(0x0); end", err: ErrUnrecognizedOpcode},
	{name: "opcode 0x35", code: "op(0x35); end", err: ErrUnrecognizedOpcode},
	{name: "opcode 0xff", code: "op(0xff); end", err: ErrUnrecognizedOpcode},
	{name: "no end", code: "const8 1", err: ErrTruncated, pc: 2},
	{name: "printf", code: `const8 7; const8 42; const8 0; const8 0; printf 1 "i=%d\\n\x00"; end`, want: 7, full: true, out: "i=42\n"},
	{name: "printf with no printer", code: `const8 42; const8 0; const8 0; printf 1 "i=%d\\n\x00"; end`, err: ErrNoPrinter, pc: 6},
	{name: "printf underflow", code: `const8 0; const8 0; printf 1 "i=%d\x00"; end`, err: ErrStackUnderflow, pc: 4, full: true},
	{name: "printf unterminated", code: `const8 0; const8 0; printf 0 "i"; end`, err: ErrFormat, pc: 4, full: true},
	{name: "printf empty format", code: `const8 0; const8 0; printf 0 ""; end`, err: ErrFormat, pc: 4, full: true},
}

func u(v int64) uint64 { return uint64(v) }

func TestEval(t *testing.T) {
	var m Machine
	m.MaxSteps = 1000
	seen := map[Op]bool{}
	for _, tc := range evalCases {
		code := mustAssemble(t, tc.code)
		for pc := 0; pc < len(code); pc += 1 + Op(code[pc]).OperandSize() {
			seen[Op(code[pc])] = true
			if Op(code[pc]) == OpPrintf {
				break
			}
		}
		var ctx Context = &bareCtx{mem: testMem, regs: testRegs}
		full := &fullCtx{bareCtx: bareCtx{mem: testMem, regs: testRegs}, vars: map[int]uint64{1: 11}}
		if tc.full {
			ctx = full
		}
		got, err := m.Eval(code, ctx)
		if tc.err == nil {
			if err != nil || got != tc.want {
				t.Errorf("%s: %s = %#x, %v; want %#x", tc.name, tc.code, got, err, tc.want)
			}
		} else {
			var ee *EvalError
			if !errors.As(err, &ee) || !(errors.Is(err, tc.err) || strings.HasSuffix(err.Error(), tc.err.Error())) || ee.PC != tc.pc {
				t.Errorf("%s: %s = %#x, %v; want error %v at pc %d", tc.name, tc.code, got, err, tc.err, tc.pc)
			} else if ee.PC < len(code) && ee.Op != Op(code[ee.PC]) {
				t.Errorf("%s: error names %v, the code has %v at pc %d", tc.name, ee.Op, Op(code[ee.PC]), ee.PC)
			}
		}
		if log := strings.Join(full.log, "; "); log != tc.log {
			t.Errorf("%s: collected %q, want %q", tc.name, log, tc.log)
		}
		if string(full.out) != tc.out {
			t.Errorf("%s: printed %q, want %q", tc.name, full.out, tc.out)
		}
	}
	for i := range 256 {
		if op := Op(i); op.Valid() && !seen[op] {
			t.Errorf("no case for %v", op)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	var m Machine
	ctx := &bareCtx{mem: testMem, regs: testRegs}
	_, err := m.Eval(nil, ctx)
	if !errors.Is(err, ErrEmptyExpression) {
		t.Errorf("empty code: %v", err)
	}
	// Truncated operands, at every length short of whole.
	for _, text := range []string{"const16 1", "const32 1", "const64 1", "reg 1", "goto 0", "if_goto 0",
		"ext 8", "zero_ext 8", "pick 0", "trace_quick 1", "trace16 1", "getv 1", "setv 1", "tracev 1", `printf 0 "\x00"`} {
		code := mustAssemble(t, text)
		for n := 1; n < len(code); n++ {
			if Op(code[0]) == OpPrintf && n >= 4 {
				// The format itself is cut.
				_, err := m.Eval(append([]byte{0x22, 0, 0x22, 0}, code[:n]...), &fullCtx{})
				if !errors.Is(err, ErrTruncated) {
					t.Errorf("%q cut to %d bytes: %v", text, n, err)
				}
				continue
			}
			_, err := m.Eval(code[:n], ctx)
			var ee *EvalError
			if !errors.As(err, &ee) || !errors.Is(err, ErrTruncated) || ee.PC != 0 {
				t.Errorf("%q cut to %d bytes: %v", text, n, err)
			}
		}
	}
	// The memory error says where.
	_, err = m.Eval(mustAssemble(t, "const16 0x1004; ref64; end"), ctx)
	var me *MemoryError
	if !errors.As(err, &me) || me.Addr != 0x1004 || me.Len != 8 {
		t.Errorf("ref64 across the end of memory: %v", err)
	}
	want := "agent expression: pc 3 (ref64): reading 8 bytes at 0x1004: input/output error"
	if err == nil || err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	_, err = m.Eval(mustAssemble(t, "const8 1"), ctx)
	if want := "agent expression: pc 2 (past the end): truncated expression"; err == nil || err.Error() != want {
		t.Errorf("no end: %v, want %q", err, want)
	}
	var re *RegisterError
	_, err = m.Eval(mustAssemble(t, "reg 300; end"), ctx)
	if !errors.As(err, &re) || re.Reg != 300 {
		t.Errorf("reg 300: %v", err)
	}
}

func TestStackLimit(t *testing.T) {
	var m Machine
	ctx := &bareCtx{}
	push := strings.Repeat("const8 1; ", MaxStack)
	code := mustAssemble(t, push+"end")
	if v, err := m.Eval(code, ctx); err != nil || v != 1 {
		t.Fatalf("%d values: %d, %v", MaxStack, v, err)
	}
	code = mustAssemble(t, push+"const8 2; end")
	_, err := m.Eval(code, ctx)
	var ee *EvalError
	if !errors.As(err, &ee) || !errors.Is(err, ErrStackOverflow) || ee.PC != 2*MaxStack {
		t.Fatalf("%d values: %v", MaxStack+1, err)
	}
	for _, op := range []string{"dup", "pick 0", "reg 6", "getv 0"} {
		code = mustAssemble(t, push+op+"; end")
		if _, err := m.Eval(code, ctx); !errors.Is(err, ErrStackOverflow) {
			t.Errorf("%s on a full stack: %v", op, err)
		}
	}
	// A full stack still computes.
	code = mustAssemble(t, push+strings.Repeat("add; ", MaxStack-1)+"end")
	if v, err := m.Eval(code, ctx); err != nil || v != MaxStack {
		t.Errorf("sum of %d ones: %d, %v", MaxStack, v, err)
	}
}

func TestStepLimit(t *testing.T) {
	ctx := &bareCtx{}
	loop := mustAssemble(t, "const8 1; pop; goto 0")
	for _, limit := range []int{0, 1, 7, 1000} {
		m := Machine{MaxSteps: limit}
		_, err := m.Eval(loop, ctx)
		want := limit
		if limit == 0 {
			want = DefaultMaxSteps
		}
		if !errors.Is(err, ErrStepLimit) || m.Steps() != want {
			t.Errorf("MaxSteps %d: %v after %d steps, want the step limit after %d", limit, err, m.Steps(), want)
		}
	}
	// The limit counts end too: an expression of exactly MaxSteps steps
	// completes.
	m := Machine{MaxSteps: 3}
	if v, err := m.Eval(mustAssemble(t, "const8 1; const8 2; end"), ctx); err != nil || v != 2 || m.Steps() != 3 {
		t.Errorf("3 steps under a limit of 3: %d, %v, %d steps", v, err, m.Steps())
	}
}

// TestRunEndsEmpty: a command (dprintf) ends with nothing on the stack;
// Run accepts it, Eval does not, as gdbserver with and without a result
// pointer.
func TestRunEndsEmpty(t *testing.T) {
	var m Machine
	code := mustAssemble(t, `const8 0; const8 0; printf 0 "hi\\n\x00"; end`)
	ctx := &fullCtx{}
	if err := m.Run(code, ctx); err != nil || string(ctx.out) != "hi\n" {
		t.Fatalf("Run: %v, printed %q", err, ctx.out)
	}
	if _, err := m.Eval(code, ctx); !errors.Is(err, ErrEmptyStack) {
		t.Fatalf("Eval: %v, want the empty stack", err)
	}
}

func TestBigEndian(t *testing.T) {
	m := Machine{BigEndian: true}
	ctx := &bareCtx{mem: testMem}
	for code, want := range map[string]uint64{
		"const16 0x1000; ref8; end":  0x11,
		"const16 0x1000; ref16; end": 0x1122,
		"const16 0x1000; ref32; end": 0x11223344,
		"const16 0x1000; ref64; end": 0x1122334455667788,
	} {
		if v, err := m.Eval(mustAssemble(t, code), ctx); err != nil || v != want {
			t.Errorf("%s: %#x, %v; want %#x", code, v, err, want)
		}
	}
}

func TestOpNames(t *testing.T) {
	// The numbering of gdbsupport/ax.def, spot-checked at each end and
	// at the gaps.
	for op, name := range map[Op]string{0x01: "float", 0x02: "add", 0x0c: "trace", 0x16: "ext", 0x1f: "d_to_l",
		0x20: "if_goto", 0x27: "end", 0x2a: "zero_ext", 0x2f: "tracenz", 0x30: "trace16", 0x31: "invalid2",
		0x32: "pick", 0x33: "rot", 0x34: "printf", 0x00: "op(0x0)", 0x35: "op(0x35)", 0xff: "op(0xff)"} {
		if op.String() != name {
			t.Errorf("%#x is %q, want %q", uint8(op), op.String(), name)
		}
	}
	n := 0
	for i := range 256 {
		if Op(i).Valid() {
			n++
		}
	}
	if n != 0x34-1 { // 0x01..0x34 but invalid2
		t.Errorf("%d valid bytecodes", n)
	}
}
