package server

import (
	"debug/elf"
	"fmt"
	"sort"
)

// Notices and tables name an address by the symbol of the program that
// holds it ("0x404028 <counter>"), from the executable's own symbol table
// (data and function symbols with a size), relocated by the load bias of a
// position-independent executable (AT_ENTRY minus the ELF entry point).

// symbol is one sized symbol, at its run-time address.
type symbol struct {
	addr, size uint64
	name       string
}

// atEntry is the auxiliary-vector tag of the program's entry point.
const atEntry = 9

// symbolAt names the symbol holding addr ("counter", "table+8"), or "".
func (p *process) symbolAt(addr uint64) string {
	if p.syms == nil {
		p.syms = p.loadSymbols()
	}
	syms := p.syms
	i := sort.Search(len(syms), func(i int) bool { return syms[i].addr > addr }) - 1
	if i < 0 || addr >= syms[i].addr+syms[i].size {
		return ""
	}
	if off := addr - syms[i].addr; off != 0 {
		return fmt.Sprintf("%s+%d", syms[i].name, off)
	}
	return syms[i].name
}

// loadSymbols reads the program's symbols once; a program without them
// (stripped) gets an empty, non-nil table.
func (p *process) loadSymbols() []symbol {
	out := []symbol{}
	f, err := elf.Open(fmt.Sprintf("/proc/%d/exe", p.pid))
	if err != nil {
		if f, err = elf.Open(p.execName()); err != nil {
			return out
		}
	}
	defer f.Close()
	var bias uint64
	if f.Type == elf.ET_DYN && p.auxvR != nil {
		if auxv, err := p.auxvR.Auxv(); err == nil {
			if entry, ok := auxvValue(auxv, atEntry); ok {
				bias = entry - f.Entry
			}
		}
	}
	syms, _ := f.Symbols()
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if s.Size == 0 || s.Value == 0 || t != elf.STT_OBJECT && t != elf.STT_FUNC {
			continue
		}
		out = append(out, symbol{addr: s.Value + bias, size: s.Size, name: s.Name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}
