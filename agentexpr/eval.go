package agentexpr

import (
	"encoding/binary"
	"errors"
)

// Limits of one evaluation.
const (
	// MaxStack is the deepest stack an expression may build: 98 values,
	// as gdbserver (a 100-slot array, "stack overflow" once 99 are in
	// use). gdb never checks an expression's depth against the target.
	MaxStack = 98

	// DefaultMaxSteps is the number of bytecodes one evaluation may run
	// when Machine.MaxSteps is zero. gdbserver has no limit (goto 0 hangs
	// it for good). gdb emits only forward jumps (&&, ||, ?:), so its
	// expressions run at most one step per byte of code, and a Z packet
	// of gdbserverx (rsp's 128 KiB payload, hex) carries at most 64 KiB
	// of code: no expression of gdb's can reach this limit. A loop
	// reaches it in about 0.3 ms of pure arithmetic (BenchmarkEvalCondition's
	// machine), or after at most 65,536 reads of the target's memory.
	DefaultMaxSteps = 1 << 16

	// DefaultMaxOutput is the number of bytes the printf bytecodes of
	// one evaluation may print when Machine.MaxOutput is zero. A dprintf
	// line is tens of bytes; gdbserver has no limit ("%1000000000d"
	// prints a gigabyte).
	DefaultMaxOutput = 64 << 10
)

// Context is the stopped thread an expression reads: its memory and its
// registers. The server implements it over the target; the package knows
// no architecture.
type Context interface {
	// ReadMemory reads len(buf) bytes at addr. It returns the number of
	// bytes read; fewer than len(buf) come with an error saying why.
	ReadMemory(addr uint64, buf []byte) (int, error)

	// Register returns register n zero-extended to 64 bits, n numbered
	// as in gdb's target description (the order of the g packet). A
	// register the thread does not have, or one wider than 64 bits, is
	// an error (gdbserver dies of an internal error on the latter).
	Register(n int) (uint64, error)
}

// Variables is implemented by a Context that has trace state variables
// (getv, setv). Without it getv pushes 0 and setv does nothing, as
// gdbserver does for a variable it does not know.
type Variables interface {
	Variable(n int) (uint64, error)
	SetVariable(n int, v uint64) error
}

// Collector is implemented by a Context that records trace data (trace,
// trace_quick, trace16, tracenz, tracev), as a tracepoint's collection
// does. Without it those bytecodes have only their effect on the stack:
// gdbserver evaluates breakpoint conditions and commands with no trace
// frame, where its collection functions record nothing.
type Collector interface {
	// CollectMemory records size bytes at addr.
	CollectMemory(addr, size uint64) error
	// CollectString records the bytes at addr up to the first zero byte
	// or limit bytes, whichever comes first.
	CollectString(addr, limit uint64) error
	// CollectVariable records trace state variable n.
	CollectVariable(n int) error
}

// Printer is implemented by a Context that takes the output of printf
// bytecodes (gdb's `set dprintf-style agent`). gdbserver writes it to
// its own standard output. Print gets the text of one printf bytecode.
type Printer interface {
	Print(text []byte) error
}

// Machine evaluates agent expressions. The zero value is ready to use. A
// Machine holds the stack and buffers of one evaluation at a time and is
// reused across evaluations, which then allocate nothing (printf's
// buffers grow once to the largest format and output seen). It belongs
// to one goroutine.
type Machine struct {
	// MaxSteps bounds the bytecodes one evaluation runs; zero means
	// DefaultMaxSteps.
	MaxSteps int
	// MaxOutput bounds the bytes the printf bytecodes of one evaluation
	// print; zero means DefaultMaxOutput.
	MaxOutput int
	// BigEndian says the target's memory is big-endian: ref16, ref32 and
	// ref64 read "using the natural target endianness" (the manual).
	// False means little-endian.
	BigEndian bool

	steps   int
	printed int
	stack   [MaxStack]uint64
	scratch [8]byte
	args    [MaxStack]uint64
	format  []byte // a printf format, escapes processed
	str     []byte // a %s argument
	out     []byte // the text of one printf
}

// Eval evaluates code, a breakpoint condition, and returns the value on
// top of the stack at end. An end with an empty stack is ErrEmptyStack,
// as in gdbserver. Errors are *EvalError.
//
// gdbserver takes any error as a true condition ("This forces GDB to
// reevaluate the conditions"): it reports the stop and gdb evaluates the
// condition itself. The caller decides; the package only reports.
func (m *Machine) Eval(code []byte, ctx Context) (uint64, error) {
	return m.run(code, ctx, true)
}

// Run evaluates code, a breakpoint command (a dprintf), for its effects;
// unlike Eval, an end with an empty stack is no error, which is how
// gdb's dprintf code ends. Errors are *EvalError.
func (m *Machine) Run(code []byte, ctx Context) error {
	_, err := m.run(code, ctx, false)
	return err
}

// Steps returns the number of bytecodes the last evaluation ran, end
// included.
func (m *Machine) Steps() int { return m.steps }

func (m *Machine) fail(pc int, op Op, err error) (uint64, error) {
	return 0, &EvalError{PC: pc, Op: op, Err: err}
}

// errShortRead is a Context's read that returned fewer bytes without an
// error, against its contract.
var errShortRead = errors.New("short read")

func (m *Machine) read(ctx Context, addr uint64, size int) (uint64, error) {
	buf := m.scratch[:size]
	n, err := ctx.ReadMemory(addr, buf)
	if n != size {
		if err == nil {
			err = errShortRead
		}
		return 0, &MemoryError{Addr: addr, Len: size, Err: err}
	}
	if m.BigEndian {
		switch size {
		case 1:
			return uint64(buf[0]), nil
		case 2:
			return uint64(binary.BigEndian.Uint16(buf)), nil
		case 4:
			return uint64(binary.BigEndian.Uint32(buf)), nil
		}
		return binary.BigEndian.Uint64(buf), nil
	}
	switch size {
	case 1:
		return uint64(buf[0]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(buf)), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(buf)), nil
	}
	return binary.LittleEndian.Uint64(buf), nil
}

// operand returns the n-byte big-endian operand after the opcode at pc;
// the caller checked that it is inside code.
func operand(code []byte, pc, n int) uint64 {
	var v uint64
	for _, b := range code[pc+1 : pc+1+n] {
		v = v<<8 | uint64(b)
	}
	return v
}

func (m *Machine) run(code []byte, ctx Context, want bool) (uint64, error) {
	m.steps = 0
	m.printed = 0
	if len(code) == 0 {
		return m.fail(0, 0, ErrEmptyExpression)
	}
	limit := m.MaxSteps
	if limit <= 0 {
		limit = DefaultMaxSteps
	}
	st := &m.stack
	sp := 0 // values on the stack; the top is st[sp-1]
	pc := 0
	for {
		if pc >= len(code) {
			return 0, &EvalError{PC: pc, Op: OpEnd, Err: ErrTruncated, pastEnd: true}
		}
		if m.steps >= limit {
			return m.fail(pc, Op(code[pc]), ErrStepLimit)
		}
		m.steps++
		at := pc
		op := Op(code[at])
		info := &opTable[op]
		pc = at + 1 + info.operands
		if pc > len(code) {
			return m.fail(at, op, ErrTruncated)
		}
		// The stack is checked here once for every bytecode rather than
		// in each case.
		pops, pushes := info.pops, info.pushes
		switch op {
		case OpPick:
			// pick n copies the value n places under the top.
			pops += int(code[at+1])
			pushes += int(code[at+1])
		case OpPrintf:
			pops += int(code[at+1])
		}
		if sp < pops {
			return m.fail(at, op, ErrStackUnderflow)
		}
		if sp-pops+pushes > MaxStack {
			return m.fail(at, op, ErrStackOverflow)
		}
		switch op {
		case OpAdd:
			sp--
			st[sp-1] += st[sp]
		case OpSub:
			sp--
			st[sp-1] -= st[sp]
		case OpMul:
			sp--
			st[sp-1] *= st[sp]
		case OpDivSigned, OpDivUnsigned, OpRemSigned, OpRemUnsigned:
			b := st[sp-1]
			if b == 0 {
				return m.fail(at, op, ErrDivideByZero)
			}
			sp--
			a := st[sp-1]
			switch op {
			case OpDivSigned:
				// MinInt64 / -1 is MinInt64 in Go; in gdbserver it is
				// a SIGFPE that kills the server.
				st[sp-1] = uint64(int64(a) / int64(b))
			case OpDivUnsigned:
				st[sp-1] = a / b
			case OpRemSigned:
				st[sp-1] = uint64(int64(a) % int64(b))
			default:
				st[sp-1] = a % b
			}
		case OpLsh:
			// C leaves a count of 64 or more undefined; gdbserver on
			// x86-64 (and gdb 13 evaluating on an x86-64 host) uses the
			// count modulo 64, as the shift instructions do.
			sp--
			st[sp-1] <<= st[sp] & 63
		case OpRshSigned:
			sp--
			st[sp-1] = uint64(int64(st[sp-1]) >> (st[sp] & 63))
		case OpRshUnsigned:
			sp--
			st[sp-1] >>= st[sp] & 63
		case OpLogNot:
			st[sp-1] = b2u(st[sp-1] == 0)
		case OpBitAnd:
			sp--
			st[sp-1] &= st[sp]
		case OpBitOr:
			sp--
			st[sp-1] |= st[sp]
		case OpBitXor:
			sp--
			st[sp-1] ^= st[sp]
		case OpBitNot:
			st[sp-1] = ^st[sp-1]
		case OpEqual:
			sp--
			st[sp-1] = b2u(st[sp-1] == st[sp])
		case OpLessSigned:
			sp--
			st[sp-1] = b2u(int64(st[sp-1]) < int64(st[sp]))
		case OpLessUnsigned:
			sp--
			st[sp-1] = b2u(st[sp-1] < st[sp])
		case OpExt:
			// n >= 64 leaves the value as it is (the manual). n == 0
			// gives 0, which is what gdbserver computes; it is
			// otherwise undefined.
			if n := code[at+1]; n == 0 {
				st[sp-1] = 0
			} else if n < 64 {
				s := 64 - n
				st[sp-1] = uint64(int64(st[sp-1]<<s) >> s)
			}
		case OpZeroExt:
			if n := code[at+1]; n < 64 {
				st[sp-1] &= 1<<n - 1
			}
		case OpRef8, OpRef16, OpRef32, OpRef64:
			v, err := m.read(ctx, st[sp-1], 1<<(op-OpRef8))
			if err != nil {
				return m.fail(at, op, err)
			}
			st[sp-1] = v
		case OpIfGoto:
			sp--
			if st[sp] != 0 {
				to := int(operand(code, at, 2))
				if to >= len(code) {
					return m.fail(at, op, ErrInvalidGoto)
				}
				pc = to
			}
		case OpGoto:
			to := int(operand(code, at, 2))
			if to >= len(code) {
				return m.fail(at, op, ErrInvalidGoto)
			}
			pc = to
		case OpConst8, OpConst16, OpConst32, OpConst64:
			st[sp] = operand(code, at, info.operands)
			sp++
		case OpReg:
			n := int(operand(code, at, 2))
			v, err := ctx.Register(n)
			if err != nil {
				return m.fail(at, op, &RegisterError{Reg: n, Err: err})
			}
			st[sp] = v
			sp++
		case OpEnd:
			if !want {
				return 0, nil
			}
			if sp == 0 {
				return m.fail(at, op, ErrEmptyStack)
			}
			return st[sp-1], nil
		case OpDup:
			st[sp] = st[sp-1]
			sp++
		case OpPop:
			sp--
		case OpSwap:
			st[sp-1], st[sp-2] = st[sp-2], st[sp-1]
		case OpPick:
			st[sp] = st[sp-1-int(code[at+1])]
			sp++
		case OpRot:
			st[sp-3], st[sp-2], st[sp-1] = st[sp-1], st[sp-3], st[sp-2]
		case OpGetv:
			var v uint64
			if vs, ok := ctx.(Variables); ok {
				var err error
				if v, err = vs.Variable(int(operand(code, at, 2))); err != nil {
					return m.fail(at, op, err)
				}
			}
			st[sp] = v
			sp++
		case OpSetv:
			if vs, ok := ctx.(Variables); ok {
				if err := vs.SetVariable(int(operand(code, at, 2)), st[sp-1]); err != nil {
					return m.fail(at, op, err)
				}
			}
		case OpTrace, OpTracenz:
			addr, size := st[sp-2], st[sp-1]
			sp -= 2
			if c, ok := ctx.(Collector); ok {
				var err error
				if op == OpTrace {
					err = c.CollectMemory(addr, size)
				} else {
					err = c.CollectString(addr, size)
				}
				if err != nil {
					return m.fail(at, op, err)
				}
			}
		case OpTraceQuick, OpTrace16:
			// trace16 is trace_quick with a 16-bit size (the manual);
			// gdbserver answers "unhandled opcode", but gdb emits it
			// only in tracepoint collection, never in a condition.
			if c, ok := ctx.(Collector); ok {
				if err := c.CollectMemory(st[sp-1], operand(code, at, info.operands)); err != nil {
					return m.fail(at, op, err)
				}
			}
		case OpTracev:
			// The manual and ax.def say tracev pushes a value; it does
			// not in gdbserver, and gdb emits it after a getv of the
			// same variable, expecting no push.
			if c, ok := ctx.(Collector); ok {
				if err := c.CollectVariable(int(operand(code, at, 2))); err != nil {
					return m.fail(at, op, err)
				}
			}
		case OpPrintf:
			nargs := int(code[at+1])
			end := pc + int(operand(code, at+1, 2))
			if end > len(code) {
				return m.fail(at, op, ErrTruncated)
			}
			format := code[pc:end]
			pc = end
			// Below the function and the channel, which gdbserver
			// ignores (it prints to its standard output), the first
			// argument is on top.
			for i := range nargs {
				m.args[i] = st[sp-3-i]
			}
			sp -= nargs + 2
			if err := m.printf(ctx, format, m.args[:nargs]); err != nil {
				return m.fail(at, op, err)
			}
		case OpFloat, OpRefFloat, OpRefDouble, OpRefLongDouble, OpLToD, OpDToL:
			return m.fail(at, op, ErrUnhandledOpcode)
		default:
			return m.fail(at, op, ErrUnrecognizedOpcode)
		}
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
