package linux

import (
	"debug/elf"
	"fmt"
	"sort"
)

// The program's symbols (target.Symbolizer) come from its executable's
// own symbol table: the data and function symbols with a size, relocated
// by the load bias of a position-independent executable (AT_ENTRY minus
// the ELF entry point). Shared libraries are not read: the notices that
// name addresses are about the program's variables.

// sizedSymbol is one sized symbol, at its run-time address.
type sizedSymbol struct {
	addr, size uint64
	name       string
}

// SymbolAt names the symbol that holds addr, and addr's offset in it
// (see target.Symbolizer). The table is read at the first call after a
// start or an exec; a program without symbols (stripped) names nothing.
func (f *facts) SymbolAt(addr uint64) (name string, offset uint64, ok bool) {
	if f.syms == nil {
		f.syms = f.loadSymbols()
	}
	syms := f.syms
	i := sort.Search(len(syms), func(i int) bool { return syms[i].addr > addr }) - 1
	if i < 0 || addr >= syms[i].addr+syms[i].size {
		return "", 0, false
	}
	return syms[i].name, addr - syms[i].addr, true
}

// loadSymbols reads the program's symbols; a program without them, or
// whose executable cannot be read, gets an empty, non-nil table.
func (f *facts) loadSymbols() []sizedSymbol {
	out := []sizedSymbol{}
	if f.p.over {
		return out
	}
	// /proc/PID/exe opens the very file the process runs, even when
	// its path was renamed or removed since.
	file, err := elf.Open(fmt.Sprintf("/proc/%d/exe", f.p.pid))
	if err != nil {
		return out
	}
	defer file.Close()
	var bias uint64
	if file.Type == elf.ET_DYN {
		if auxv, err := f.Auxv(); err == nil {
			if entry, ok := auxvValue(auxv, atEntry); ok {
				bias = entry - file.Entry
			}
		}
	}
	syms, _ := file.Symbols()
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if s.Size == 0 || s.Value == 0 || t != elf.STT_OBJECT && t != elf.STT_FUNC {
			continue
		}
		out = append(out, sizedSymbol{addr: s.Value + bias, size: s.Size, name: s.Name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}
