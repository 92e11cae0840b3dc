package linux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"gdbserverx/target"
)

// The dynamic linker's list of loaded objects (target.LibraryLister) is
// read from the process's own memory, as the System V ABI lays it out:
// the program headers (found through the auxiliary vector), the
// PT_DYNAMIC segment, its DT_DEBUG entry pointing at struct r_debug,
// and r_debug's r_map chain of struct link_map. glibc's <link.h> and
// the System V gABI ("Dynamic Section") define these layouts; here for
// ELF64. The GDB manual's "Library List Format for SVR4 Targets" is what
// the server makes of the list.

// Auxiliary vector tags (<elf.h>).
const (
	atNull  = 0
	atPhdr  = 3
	atPhent = 4
	atPhnum = 5
	atEntry = 9
)

// ELF64 constants and sizes (<elf.h>), and the layouts of <link.h>.
const (
	ptDynamic   = 2
	ptPhdr      = 6
	dtNull      = 0
	dtDebug     = 21
	phdrSize    = 56 // sizeof(Elf64_Phdr)
	dynSize     = 16 // sizeof(Elf64_Dyn)
	rMapOffset  = 8  // r_debug.r_map, after int r_version and its padding
	linkMapSize = 40 // l_addr, l_name, l_ld, l_next, l_prev: the public part of struct link_map
	maxPathName = 4096
	maxLibs     = 1 << 16 // a bound on a corrupt or cyclic r_map chain
	maxPhnum    = 4096    // a bound on AT_PHNUM
	maxDynamic  = 1 << 20 // a bound on the dynamic section read
	pageSize    = 4096    // x86-64's smallest page
)

// auxvValue returns the value of tag in an ELF64 auxiliary vector.
func auxvValue(auxv []byte, tag uint64) (uint64, bool) {
	for i := 0; i+16 <= len(auxv); i += 16 {
		t := binary.LittleEndian.Uint64(auxv[i:])
		if t == atNull {
			break
		}
		if t == tag {
			return binary.LittleEndian.Uint64(auxv[i+8:]), true
		}
	}
	return 0, false
}

// Libraries reads the dynamic linker's list of loaded objects from the
// process's memory (see target.LibraryLister). The first link_map is the
// program itself: it is MainLM, not a library.
func (f *facts) Libraries() (target.LibraryList, error) {
	auxv, err := f.Auxv()
	if err != nil {
		return target.LibraryList{}, err
	}
	m := f.p.mem
	rdebug, err := rDebugAddr(m, auxv)
	if err != nil || rdebug == 0 {
		return target.LibraryList{}, err
	}
	lm, err := readU64(m, rdebug+rMapOffset)
	if err != nil {
		return target.LibraryList{}, fmt.Errorf("r_debug.r_map: %w", err)
	}
	list := target.LibraryList{RDebug: rdebug, MainLM: lm}
	for n := 0; lm != 0 && n < maxLibs; n++ {
		var ent [linkMapSize]byte
		if err := readFull(m, lm, ent[:]); err != nil {
			return target.LibraryList{}, fmt.Errorf("link_map: %w", err)
		}
		lib := target.Library{
			LM:   lm,
			Addr: binary.LittleEndian.Uint64(ent[0:]),
			LD:   binary.LittleEndian.Uint64(ent[16:]),
		}
		if n > 0 {
			if name := binary.LittleEndian.Uint64(ent[8:]); name != 0 {
				if lib.Name, err = readCString(m, name); err != nil {
					return target.LibraryList{}, fmt.Errorf("link_map %#x name: %w", lm, err)
				}
			}
			list.Libraries = append(list.Libraries, lib)
		}
		lm = binary.LittleEndian.Uint64(ent[24:]) // l_next
	}
	return list, nil
}

// rDebugAddr finds struct r_debug through DT_DEBUG. It returns 0 when the
// dynamic linker has not filled DT_DEBUG in yet (at the first instruction),
// or when the program has no dynamic section (static).
func rDebugAddr(m *memory, auxv []byte) (uint64, error) {
	phdr, ok1 := auxvValue(auxv, atPhdr)
	phnum, ok2 := auxvValue(auxv, atPhnum)
	if !ok1 || !ok2 {
		return 0, errors.New("auxiliary vector has no AT_PHDR or AT_PHNUM")
	}
	if phent, ok := auxvValue(auxv, atPhent); ok && phent != phdrSize {
		return 0, fmt.Errorf("AT_PHENT is %d, not %d (not ELF64?)", phent, phdrSize)
	}
	if phnum > maxPhnum {
		return 0, fmt.Errorf("AT_PHNUM %d is implausible", phnum)
	}
	hdrs := make([]byte, phnum*phdrSize)
	if err := readFull(m, phdr, hdrs); err != nil {
		return 0, fmt.Errorf("program headers: %w", err)
	}
	var bias, dynVaddr, dynBytes uint64
	haveDyn := false
	for i := uint64(0); i < phnum; i++ {
		h := hdrs[i*phdrSize:]
		switch binary.LittleEndian.Uint32(h) { // p_type
		case ptPhdr:
			bias = phdr - binary.LittleEndian.Uint64(h[16:]) // p_vaddr
		case ptDynamic:
			dynVaddr = binary.LittleEndian.Uint64(h[16:])
			dynBytes = binary.LittleEndian.Uint64(h[40:]) // p_memsz
			haveDyn = true
		}
	}
	if !haveDyn {
		return 0, nil
	}
	dyn := make([]byte, min(dynBytes, maxDynamic)/dynSize*dynSize)
	if err := readFull(m, bias+dynVaddr, dyn); err != nil {
		return 0, fmt.Errorf("dynamic section: %w", err)
	}
	for i := 0; i+dynSize <= len(dyn); i += dynSize {
		switch binary.LittleEndian.Uint64(dyn[i:]) { // d_tag
		case dtNull:
			return 0, nil
		case dtDebug:
			return binary.LittleEndian.Uint64(dyn[i+8:]), nil
		}
	}
	return 0, nil
}

func readFull(m *memory, addr uint64, buf []byte) error {
	n, err := m.read(addr, buf)
	if n == len(buf) {
		return nil
	}
	if err == nil {
		err = errors.New("short read")
	}
	return fmt.Errorf("read %d bytes at %#x: %w", len(buf), addr, err)
}

func readU64(m *memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := readFull(m, addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// readCString reads a NUL-terminated string of at most maxPathName bytes.
func readCString(m *memory, addr uint64) (string, error) {
	var out []byte
	var chunk [256]byte
	for len(out) < maxPathName {
		// Read up to the end of the page, so that a string near the end
		// of a mapping does not fail for the bytes after it.
		n := min(len(chunk), pageSize-int(addr%pageSize))
		if err := readFull(m, addr, chunk[:n]); err != nil {
			return "", err
		}
		if i := bytes.IndexByte(chunk[:n], 0); i >= 0 {
			return string(append(out, chunk[:i]...)), nil
		}
		out = append(out, chunk[:n]...)
		addr += uint64(n)
	}
	return "", fmt.Errorf("string at %#x longer than %d bytes", addr, maxPathName)
}
