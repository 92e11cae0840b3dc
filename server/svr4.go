package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The dynamic linker's library list (qXfer:libraries-svr4:read) is read
// from the inferior's own memory, as the SVR4 ABI lays it out: the program
// headers (found through the auxiliary vector), the PT_DYNAMIC segment, its
// DT_DEBUG entry pointing at struct r_debug, and its r_map chain of struct
// link_map. glibc's <link.h> and the System V gABI "Dynamic Section"
// define these layouts; here for ELF64.

// Auxiliary vector tags (elf.h).
const (
	atNull  = 0
	atPhdr  = 3
	atPhent = 4
	atPhnum = 5
)

// ELF constants (elf.h).
const (
	ptDynamic   = 2
	ptPhdr      = 6
	dtNull      = 0
	dtDebug     = 21
	phdrSize    = 56 // sizeof(Elf64_Phdr)
	dynSize     = 16 // sizeof(Elf64_Dyn)
	maxPathName = 4096
	maxLibs     = 1 << 16 // a bound on a corrupt or cyclic r_map chain
)

// memReader reads inferior memory.
type memReader interface {
	ReadMemory(addr uint64, buf []byte) (int, error)
}

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

func readFull(m memReader, addr uint64, buf []byte) error {
	n, err := m.ReadMemory(addr, buf)
	if n == len(buf) {
		return nil
	}
	if err == nil {
		err = errors.New("short read")
	}
	return fmt.Errorf("read %d bytes at %#x: %w", len(buf), addr, err)
}

func readU64(m memReader, addr uint64) (uint64, error) {
	var b [8]byte
	if err := readFull(m, addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// readCString reads a NUL-terminated string of at most maxPathName bytes.
func readCString(m memReader, addr uint64) (string, error) {
	var out []byte
	var chunk [256]byte
	for len(out) < maxPathName {
		// Read up to the end of the page, so that a string near the end
		// of a mapping does not fail for the bytes after it.
		n := len(chunk)
		if left := 4096 - int(addr%4096); left < n {
			n = left
		}
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

// rDebugAddr finds struct r_debug through DT_DEBUG. It returns 0 when the
// dynamic linker has not filled DT_DEBUG in yet (at the first instruction),
// or when the program has no dynamic section (static).
func rDebugAddr(m memReader, auxv []byte) (uint64, error) {
	phdr, ok1 := auxvValue(auxv, atPhdr)
	phnum, ok2 := auxvValue(auxv, atPhnum)
	if !ok1 || !ok2 {
		return 0, errors.New("auxiliary vector has no AT_PHDR or AT_PHNUM")
	}
	if phent, ok := auxvValue(auxv, atPhent); ok && phent != phdrSize {
		return 0, fmt.Errorf("AT_PHENT is %d, not %d (not ELF64?)", phent, phdrSize)
	}
	if phnum > 4096 {
		return 0, fmt.Errorf("AT_PHNUM %d is implausible", phnum)
	}
	hdrs := make([]byte, phnum*phdrSize)
	if err := readFull(m, phdr, hdrs); err != nil {
		return 0, fmt.Errorf("program headers: %w", err)
	}
	var bias, dynVaddr, dynSizeBytes uint64
	haveDyn := false
	for i := uint64(0); i < phnum; i++ {
		h := hdrs[i*phdrSize:]
		switch binary.LittleEndian.Uint32(h) {
		case ptPhdr:
			bias = phdr - binary.LittleEndian.Uint64(h[16:])
		case ptDynamic:
			dynVaddr = binary.LittleEndian.Uint64(h[16:])
			dynSizeBytes = binary.LittleEndian.Uint64(h[40:])
			haveDyn = true
		}
	}
	if !haveDyn {
		return 0, nil
	}
	if dynSizeBytes > 1<<20 {
		dynSizeBytes = 1 << 20
	}
	dyn := make([]byte, dynSizeBytes/dynSize*dynSize)
	if err := readFull(m, bias+dynVaddr, dyn); err != nil {
		return 0, fmt.Errorf("dynamic section: %w", err)
	}
	for i := 0; i+dynSize <= len(dyn); i += dynSize {
		switch binary.LittleEndian.Uint64(dyn[i:]) {
		case dtNull:
			return 0, nil
		case dtDebug:
			return binary.LittleEndian.Uint64(dyn[i+8:]), nil
		}
	}
	return 0, nil
}

// librariesSVR4 builds the <library-list-svr4> document. The first
// link_map is the program itself: it becomes main-lm, not a library.
func librariesSVR4(m memReader, auxv []byte) ([]byte, error) {
	rdebug, err := rDebugAddr(m, auxv)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if rdebug == 0 {
		b.WriteString(`<library-list-svr4 version="1.0"/>`)
		return b.Bytes(), nil
	}
	lm, err := readU64(m, rdebug+8) // r_map, after int r_version and padding
	if err != nil {
		return nil, fmt.Errorf("r_debug.r_map: %w", err)
	}
	fmt.Fprintf(&b, `<library-list-svr4 version="1.0"`)
	if lm != 0 {
		fmt.Fprintf(&b, ` main-lm="0x%x"`, lm)
	}
	b.WriteString(">")
	first := true
	for n := 0; lm != 0 && n < maxLibs; n++ {
		var ent [40]byte // l_addr, l_name, l_ld, l_next, l_prev
		if err := readFull(m, lm, ent[:]); err != nil {
			return nil, fmt.Errorf("link_map: %w", err)
		}
		laddr := binary.LittleEndian.Uint64(ent[0:])
		lname := binary.LittleEndian.Uint64(ent[8:])
		lld := binary.LittleEndian.Uint64(ent[16:])
		next := binary.LittleEndian.Uint64(ent[24:])
		if !first {
			name := ""
			if lname != 0 {
				if name, err = readCString(m, lname); err != nil {
					return nil, fmt.Errorf("link_map name: %w", err)
				}
			}
			// Entries without a name (the vDSO on some systems) are
			// skipped, as gdbserver does.
			if name != "" {
				// lmid names the link-map namespace by its r_debug
				// (gdb 13 requires it); the default namespace's is
				// the one DT_DEBUG points to.
				fmt.Fprintf(&b, `<library name="%s" lm="0x%x" l_addr="0x%x" l_ld="0x%x" lmid="0x%x"/>`, esc(name), lm, laddr, lld, rdebug)
			}
		}
		first = false
		lm = next
	}
	b.WriteString("</library-list-svr4>")
	return b.Bytes(), nil
}
