package agentexpr

import "strconv"

// Op is one bytecode of an agent expression. The values are fixed by the
// GDB manual ("Agent Expressions", "Bytecode Descriptions"); gdb and every
// agent must agree on them.
type Op uint8

// The bytecodes, in encoding order. Operands follow the opcode in the
// code, most significant byte first.
const (
	OpFloat         Op = 0x01 // prefix of floating-point bytecodes; not implemented by gdb or gdbserver
	OpAdd           Op = 0x02 // a b => a+b
	OpSub           Op = 0x03 // a b => a-b
	OpMul           Op = 0x04 // a b => a*b
	OpDivSigned     Op = 0x05 // a b => a/b, signed; b == 0 is an error
	OpDivUnsigned   Op = 0x06 // a b => a/b, unsigned; b == 0 is an error
	OpRemSigned     Op = 0x07 // a b => a%b, signed; b == 0 is an error
	OpRemUnsigned   Op = 0x08 // a b => a%b, unsigned; b == 0 is an error
	OpLsh           Op = 0x09 // a b => a<<b
	OpRshSigned     Op = 0x0a // a b => a>>b, copies of the sign bit shifted in
	OpRshUnsigned   Op = 0x0b // a b => a>>b, zeros shifted in
	OpTrace         Op = 0x0c // addr size => ; collect size bytes at addr
	OpTraceQuick    Op = 0x0d // size8: addr => addr; collect size bytes at addr
	OpLogNot        Op = 0x0e // a => !a
	OpBitAnd        Op = 0x0f // a b => a&b
	OpBitOr         Op = 0x10 // a b => a|b
	OpBitXor        Op = 0x11 // a b => a^b
	OpBitNot        Op = 0x12 // a => ~a
	OpEqual         Op = 0x13 // a b => a==b
	OpLessSigned    Op = 0x14 // a b => a<b, signed
	OpLessUnsigned  Op = 0x15 // a b => a<b, unsigned
	OpExt           Op = 0x16 // n8: a => a sign-extended from n bits
	OpRef8          Op = 0x17 // addr => the byte at addr
	OpRef16         Op = 0x18 // addr => the 16-bit value at addr
	OpRef32         Op = 0x19 // addr => the 32-bit value at addr
	OpRef64         Op = 0x1a // addr => the 64-bit value at addr
	OpRefFloat      Op = 0x1b // not implemented by gdb or gdbserver
	OpRefDouble     Op = 0x1c // not implemented by gdb or gdbserver
	OpRefLongDouble Op = 0x1d // not implemented by gdb or gdbserver
	OpLToD          Op = 0x1e // not implemented by gdb or gdbserver
	OpDToL          Op = 0x1f // not implemented by gdb or gdbserver
	OpIfGoto        Op = 0x20 // offset16: a => ; jump to offset if a != 0
	OpGoto          Op = 0x21 // offset16: => ; jump to offset
	OpConst8        Op = 0x22 // n8: => n
	OpConst16       Op = 0x23 // n16: => n
	OpConst32       Op = 0x24 // n32: => n
	OpConst64       Op = 0x25 // n64: => n
	OpReg           Op = 0x26 // n16: => register n
	OpEnd           Op = 0x27 // stop; the result is the top of the stack
	OpDup           Op = 0x28 // a => a a
	OpPop           Op = 0x29 // a =>
	OpZeroExt       Op = 0x2a // n8: a => a with all but its low n bits cleared
	OpSwap          Op = 0x2b // a b => b a
	OpGetv          Op = 0x2c // n16: => trace state variable n
	OpSetv          Op = 0x2d // n16: v => v; trace state variable n = v
	OpTracev        Op = 0x2e // n16: => ; collect trace state variable n
	OpTracenz       Op = 0x2f // addr size => ; collect bytes at addr up to a zero or size
	OpTrace16       Op = 0x30 // size16: addr => addr; collect size bytes at addr
	OpInvalid2      Op = 0x31 // a hole in gdb's table; never valid
	OpPick          Op = 0x32 // n8: a ... b => a ... b a, a being n items under the top
	OpRot           Op = 0x33 // a b c => c a b
	OpPrintf        Op = 0x34 // nargs8 len16 format: args... chan fn => ; formatted print
)

// opInfo is what the decoder needs of each opcode: its gdb name, the
// size of its fixed operands and its effect on the stack.
type opInfo struct {
	name     string
	operands int // bytes of operand after the opcode (printf: 3, then the format)
	// pops values the bytecode needs on the stack, pushes the values it
	// leaves in their place. pick n needs n more and leaves n more;
	// printf needs its argument count more.
	pops, pushes int
	valid        bool // an opcode the manual defines
}

var opTable = [256]opInfo{
	OpFloat:         {"float", 0, 0, 0, true},
	OpAdd:           {"add", 0, 2, 1, true},
	OpSub:           {"sub", 0, 2, 1, true},
	OpMul:           {"mul", 0, 2, 1, true},
	OpDivSigned:     {"div_signed", 0, 2, 1, true},
	OpDivUnsigned:   {"div_unsigned", 0, 2, 1, true},
	OpRemSigned:     {"rem_signed", 0, 2, 1, true},
	OpRemUnsigned:   {"rem_unsigned", 0, 2, 1, true},
	OpLsh:           {"lsh", 0, 2, 1, true},
	OpRshSigned:     {"rsh_signed", 0, 2, 1, true},
	OpRshUnsigned:   {"rsh_unsigned", 0, 2, 1, true},
	OpTrace:         {"trace", 0, 2, 0, true},
	OpTraceQuick:    {"trace_quick", 1, 1, 1, true},
	OpLogNot:        {"log_not", 0, 1, 1, true},
	OpBitAnd:        {"bit_and", 0, 2, 1, true},
	OpBitOr:         {"bit_or", 0, 2, 1, true},
	OpBitXor:        {"bit_xor", 0, 2, 1, true},
	OpBitNot:        {"bit_not", 0, 1, 1, true},
	OpEqual:         {"equal", 0, 2, 1, true},
	OpLessSigned:    {"less_signed", 0, 2, 1, true},
	OpLessUnsigned:  {"less_unsigned", 0, 2, 1, true},
	OpExt:           {"ext", 1, 1, 1, true},
	OpRef8:          {"ref8", 0, 1, 1, true},
	OpRef16:         {"ref16", 0, 1, 1, true},
	OpRef32:         {"ref32", 0, 1, 1, true},
	OpRef64:         {"ref64", 0, 1, 1, true},
	OpRefFloat:      {"ref_float", 0, 0, 0, true},
	OpRefDouble:     {"ref_double", 0, 0, 0, true},
	OpRefLongDouble: {"ref_long_double", 0, 0, 0, true},
	OpLToD:          {"l_to_d", 0, 0, 0, true},
	OpDToL:          {"d_to_l", 0, 0, 0, true},
	OpIfGoto:        {"if_goto", 2, 1, 0, true},
	OpGoto:          {"goto", 2, 0, 0, true},
	OpConst8:        {"const8", 1, 0, 1, true},
	OpConst16:       {"const16", 2, 0, 1, true},
	OpConst32:       {"const32", 4, 0, 1, true},
	OpConst64:       {"const64", 8, 0, 1, true},
	OpReg:           {"reg", 2, 0, 1, true},
	OpEnd:           {"end", 0, 0, 0, true},
	OpDup:           {"dup", 0, 1, 2, true},
	OpPop:           {"pop", 0, 1, 0, true},
	OpZeroExt:       {"zero_ext", 1, 1, 1, true},
	OpSwap:          {"swap", 0, 2, 2, true},
	OpGetv:          {"getv", 2, 0, 1, true},
	OpSetv:          {"setv", 2, 1, 1, true},
	OpTracev:        {"tracev", 2, 0, 0, true},
	OpTracenz:       {"tracenz", 0, 2, 0, true},
	OpTrace16:       {"trace16", 2, 1, 1, true},
	OpInvalid2:      {"invalid2", 0, 0, 0, false},
	OpPick:          {"pick", 1, 1, 2, true},
	OpRot:           {"rot", 0, 3, 3, true},
	OpPrintf:        {"printf", 3, 2, 0, true},
}

// String returns gdb's name of the bytecode ("div_signed"), or "op(0xNN)"
// for a byte that is none.
func (o Op) String() string {
	if n := opTable[o].name; n != "" {
		return n
	}
	return "op(0x" + strconv.FormatUint(uint64(o), 16) + ")"
}

// Valid reports whether the manual defines the bytecode (it may still be
// one that no agent implements, as the floating-point ones).
func (o Op) Valid() bool { return opTable[o].valid }

// OperandSize is the number of bytes of fixed operands that follow the
// opcode in the code. printf has 3 (argument count and format length),
// followed by the format itself.
func (o Op) OperandSize() int { return opTable[o].operands }
