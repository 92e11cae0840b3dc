package swwatch

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
)

// Protection bits, as mmap(2) and mprotect(2) take them.
const (
	protRead  = 0x1
	protWrite = 0x2
	protExec  = 0x4
	protNone  = 0

	pageSize  = 4096
	pageMask  = ^uint64(pageSize - 1)
	unmapped  = -1 // a page that no mapping holds
	userLimit = 1 << 47
)

func pageOf(a uint64) uint64 { return a & pageMask }

// mapping is one line of /proc/PID/maps.
type mapping struct {
	lo, hi uint64
	prot   int
	name   string // "[stack]", "[vdso]", a path, or ""
}

// readMaps reads /proc/PID/maps, sorted by address (the kernel gives
// them so).
func readMaps(pid int) ([]mapping, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	var out []mapping
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		m, ok := parseMapsLine(line)
		if ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// parseMapsLine parses "lo-hi perms offset dev inode   name".
func parseMapsLine(line []byte) (mapping, bool) {
	var m mapping
	f := bytes.Fields(line)
	if len(f) < 5 {
		return m, false
	}
	dash := bytes.IndexByte(f[0], '-')
	if dash < 0 {
		return m, false
	}
	lo, err1 := strconv.ParseUint(string(f[0][:dash]), 16, 64)
	hi, err2 := strconv.ParseUint(string(f[0][dash+1:]), 16, 64)
	if err1 != nil || err2 != nil || len(f[1]) < 3 {
		return m, false
	}
	m.lo, m.hi = lo, hi
	if f[1][0] == 'r' {
		m.prot |= protRead
	}
	if f[1][1] == 'w' {
		m.prot |= protWrite
	}
	if f[1][2] == 'x' {
		m.prot |= protExec
	}
	if len(f) > 5 {
		m.name = string(f[5])
	}
	return m, true
}

// protAt returns the protection of the page at a in maps, or unmapped.
func protAt(maps []mapping, a uint64) int {
	i := sort.Search(len(maps), func(i int) bool { return maps[i].hi > a })
	if i < len(maps) && maps[i].lo <= a {
		return maps[i].prot
	}
	return unmapped
}
