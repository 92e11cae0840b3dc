package agentexpr

import (
	"errors"
	"strconv"
)

// Why an evaluation stopped before end. Each comes wrapped in an
// *EvalError that says where. The first eight are gdbserver's
// (gdbserver/ax.h, enum eval_result_type), with its words; the others are
// limits and checks gdbserver does not have (see the package doc).
var (
	ErrEmptyExpression    = errors.New("empty expression")
	ErrEmptyStack         = errors.New("empty stack")
	ErrStackOverflow      = errors.New("stack overflow")
	ErrStackUnderflow     = errors.New("stack underflow")
	ErrUnhandledOpcode    = errors.New("unhandled opcode")
	ErrUnrecognizedOpcode = errors.New("unrecognized opcode")
	ErrDivideByZero       = errors.New("divide by zero")
	ErrInvalidGoto        = errors.New("invalid goto")

	// ErrTruncated: an operand, or the format of a printf, runs past the
	// end of the code, or the code ends without an end bytecode.
	ErrTruncated = errors.New("truncated expression")
	// ErrStepLimit: the evaluation ran Machine.MaxSteps bytecodes.
	ErrStepLimit = errors.New("step limit reached")
	// ErrFormat: a printf format that gdbserver refuses; wrapped with
	// gdbserver's reason.
	ErrFormat = errors.New("bad printf format")
	// ErrNoPrinter: a printf evaluated with a Context that is no Printer.
	ErrNoPrinter = errors.New("printf with nowhere to print")
	// ErrOutputLimit: the printf bytecodes of one evaluation would print
	// more than Machine.MaxOutput bytes.
	ErrOutputLimit = errors.New("printf output limit reached")
)

// EvalError is an evaluation that stopped at the bytecode at offset PC,
// for the reason Err: one of the Err values above, or a *MemoryError,
// *RegisterError, or an error of the Context's optional interfaces.
//
// Code that runs off its end without an end bytecode stops with PC at
// the end of the code, Op OpEnd (the bytecode missing there) and
// ErrTruncated.
type EvalError struct {
	PC  int
	Op  Op
	Err error

	pastEnd bool
}

func (e *EvalError) Error() string {
	where := e.Op.String()
	if e.pastEnd {
		where = "past the end"
	}
	return "agent expression: pc " + strconv.Itoa(e.PC) + " (" + where + "): " + e.Err.Error()
}

// Unwrap returns Err.
func (e *EvalError) Unwrap() error { return e.Err }

// MemoryError is a read of the target's memory that failed: Len bytes at
// Addr; Err is the Context's error.
type MemoryError struct {
	Addr uint64
	Len  int
	Err  error
}

func (e *MemoryError) Error() string {
	return "reading " + strconv.Itoa(e.Len) + " bytes at 0x" + strconv.FormatUint(e.Addr, 16) + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *MemoryError) Unwrap() error { return e.Err }

// RegisterError is a register the Context could not give; Err is its
// error.
type RegisterError struct {
	Reg int
	Err error
}

func (e *RegisterError) Error() string {
	return "reading register " + strconv.Itoa(e.Reg) + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *RegisterError) Unwrap() error { return e.Err }
