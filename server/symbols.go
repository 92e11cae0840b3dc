package server

import "fmt"

// symbolAt names the symbol of the program that holds addr ("counter",
// "table+8"), for notices and tables that say "0x404028 <counter>", or
// "" when the target cannot tell (target.Symbolizer).
func (p *process) symbolAt(addr uint64) string {
	if p.syms == nil {
		return ""
	}
	name, off, ok := p.syms.SymbolAt(addr)
	switch {
	case !ok:
		return ""
	case off != 0:
		return fmt.Sprintf("%s+%d", name, off)
	}
	return name
}
