package agentexpr

import "strconv"

// Disassemble returns code as text, for logs, tests and `--debug`: each
// bytecode by its gdb name with its operands in decimal, separated by
// "; ". printf shows its argument count and its whole format (zero byte
// included) as a Go string literal. A byte that is no bytecode shows as
// op(0xNN); operands cut off by the end of the code as <truncated>.
//
//	reg 6; const8 16; add; const8 236; ext 8; add; ref32; ext 32; const16 150; equal; end
func Disassemble(code []byte) string {
	var b []byte
	for pc := 0; pc < len(code); {
		if pc > 0 {
			b = append(b, "; "...)
		}
		op := Op(code[pc])
		b = append(b, op.String()...)
		n := opTable[op].operands
		if pc+1+n > len(code) {
			return string(append(b, " <truncated>"...))
		}
		switch {
		case op == OpPrintf:
			end := pc + 1 + n + int(operand(code, pc+1, 2))
			if end > len(code) {
				return string(append(b, " <truncated>"...))
			}
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(code[pc+1]), 10)
			b = append(b, ' ')
			b = strconv.AppendQuote(b, string(code[pc+1+n:end]))
			pc = end
			continue
		case n > 0:
			b = append(b, ' ')
			b = strconv.AppendUint(b, operand(code, pc, n), 10)
		}
		pc += 1 + n
	}
	return string(b)
}
