// Package agentexpr evaluates GDB agent expressions: the bytecode gdb
// sends in Z0 and Z1 packets for breakpoint conditions (`set breakpoint
// condition-evaluation target`) and commands (`dprintf` with `set
// dprintf-style agent`), so that the server, as GNU gdbserver does,
// decides at the breakpoint whether gdb needs to hear of the stop, and
// prints dprintf lines itself. A `break f if i == 100000` then costs one
// evaluation per hit instead of a round trip to gdb.
//
// The bytecode is the GDB manual's, appendix "Agent Expressions", node
// "Bytecode Descriptions"; its numbering is gdbsupport/ax.def. Where the
// manual leaves a case open, the package does what gdbserver's
// interpreter (gdbserver/ax.cc, gdb_eval_agent_expr) does, and where that
// is undefined C, it says so and picks the defined reading:
//
//   - Values are 64 bits; the stack holds MaxStack (98) of them, as
//     gdbserver's. add, sub, mul wrap; shifts take their count modulo 64
//     (what gdbserver computes on x86-64); ext n and zero_ext n with
//     n >= 64 change nothing (the manual), with n == 0 give 0.
//   - Division by zero is ErrDivideByZero (gdbserver's error); the most
//     negative value divided by -1 is itself, remainder 0 (gdbserver
//     dies of SIGFPE).
//   - The floating-point bytecodes (float, ref_float, ref_double,
//     ref_long_double, l_to_d, d_to_l) are ErrUnhandledOpcode; any byte
//     that is no bytecode (0x00, invalid2 0x31, 0x35 and up) is
//     ErrUnrecognizedOpcode.
//   - end returns the top of the stack; Eval (a condition) with an empty
//     stack is ErrEmptyStack, Run (a command) accepts it: gdb's dprintf
//     code ends with an empty stack.
//   - getv and setv use the Context's Variables, or read 0 and write
//     nowhere (gdbserver with no such trace state variable). The trace
//     bytecodes use its Collector, or only pop and push: gdbserver
//     collects nothing outside a tracepoint. tracev pushes nothing,
//     whatever the manual's stack notation says (gdbserver, and gdb's
//     use of it after a getv).
//   - printf formats as gdbserver's ax_printf (printf.go), to the
//     Context's Printer.
//
// Unlike gdbserver, every input is checked: an operand, a format or a
// jump target outside the code, a pop from an empty stack, pick or rot
// deeper than the stack (gdbserver reads outside its array) are errors,
// never a read past the code; dup on an empty stack is underflow
// (gdbserver pushes a 0). Every failure is an *EvalError naming the
// bytecode and its offset, wrapping a sentinel (ErrStackUnderflow, ...)
// or a *MemoryError / *RegisterError with the Context's own error; a read
// that fails is an error, where gdbserver goes on with whatever its
// buffer held. An evaluation is bounded: DefaultMaxSteps bytecodes
// (gdbserver has no limit: goto 0 hangs it), MaxStack values, and
// DefaultMaxOutput bytes of printf text (gdbserver: none), each
// adjustable per Machine.
//
// What the caller decides (the server), and what gdbserver does, as
// TestGDB13 shows on a real process: a condition that fails to evaluate
// counts as true (gdbserver reports the stop, and gdb evaluates the
// condition itself); several conditions at one address (one per gdb
// breakpoint there) are ORed, the first error ending the list; a
// breakpoint with commands runs them and reports no stop, and gdbserver
// runs them at every hit whatever the conditions, so a conditional
// dprintf prints at every hit through gdbserver (gdb's own evaluation
// prints only where the condition holds).
//
// # What it must not know
//
// No architecture, no process, no packet. Memory and registers come
// through the Context interface: register numbers are gdb's, the order
// of the target description and of the g packet, and the server maps
// them to its target; memory is bytes, in the byte order Machine.BigEndian
// says. The wire form ("X len,hex" lists in Z packets) is rsp's
// (rsp.InsertBreakpoint); this package gets the decoded bytes. It imports
// no other gdbserverx package.
//
// # Who owns the state
//
// A Machine holds one evaluation's stack and buffers and belongs to one
// goroutine (in the server, the core loop, which evaluates at a stop);
// reused, it allocates nothing per evaluation. The code is only read, and
// may be shared. Op, Disassemble and the errors are pure.
package agentexpr
