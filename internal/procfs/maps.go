package procfs

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mapping is one line of a maps file (proc(5), "/proc/pid/maps"): an
// address range of the process, its permissions and what is mapped
// there.
type Mapping struct {
	Start, End uint64 // [Start, End)
	Perms      string // four letters: r or -, w or -, x or -, p (private) or s (shared)
	// Path is the mapped file, or a pseudo-path ([heap], [stack],
	// [vdso], ...), or "" for an anonymous mapping. It may hold spaces.
	Path string
}

// maxMapsLine bounds a line of a maps file: the numbers, and a path of
// at most PATH_MAX (4096) bytes.
const maxMapsLine = 4096 + 256

// RegionAt finds the mapping of process pid that holds addr in
// /proc/PID/maps. When none does, ok is false and the mapping returned
// is the gap around addr: from addr to the start of the next mapping, or
// to the end of the address space (End 0: 2^64) after the last one.
func RegionAt(pid int, addr uint64) (m Mapping, ok bool, err error) {
	path := fmt.Sprintf("/proc/%d/maps", pid)
	f, err := os.Open(path)
	if err != nil {
		return Mapping{}, false, err // *fs.PathError: the path and the errno
	}
	defer f.Close()
	gap := Mapping{Start: addr}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 512), maxMapsLine)
	for sc.Scan() {
		m, good := ParseMapsLine(sc.Text())
		if !good {
			return Mapping{}, false, fmt.Errorf("%s: cannot read line %q", path, sc.Text())
		}
		if addr >= m.Start && addr < m.End {
			return m, true, nil
		}
		if m.Start > addr {
			gap.End = m.Start
			return gap, false, nil
		}
	}
	if err := sc.Err(); err != nil {
		return Mapping{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return gap, false, nil
}

// ParseMapsLine parses "start-end perms offset dev inode [path]".
func ParseMapsLine(line string) (Mapping, bool) {
	var f [5]string
	rest := line
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		word, after, _ := strings.Cut(rest, " ")
		if word == "" {
			return Mapping{}, false
		}
		f[i], rest = word, after
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if !ok || err1 != nil || err2 != nil || end < start || len(f[1]) != 4 {
		return Mapping{}, false
	}
	return Mapping{Start: start, End: end, Perms: f[1], Path: strings.TrimLeft(rest, " ")}, true
}
