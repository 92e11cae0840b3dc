package procfs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Stat is a stat file of a process or of one of its threads (proc(5),
// "/proc/pid/stat"): one line of fields separated by spaces, numbered
// from 1 as proc(5) numbers them (1 pid, 2 comm, 3 state, ... 39
// processor). Field 2, the name in parentheses, may itself hold spaces
// and parentheses: the fields after it are found after its last ')'.
type Stat struct {
	name string // field 2, without its parentheses
	rest string // fields 3 and on
}

// Numbers of the stat fields the project reads (proc(5)).
const (
	StatState     = 3  // one letter: R, S, D, T, t, Z, ...
	StatProcessor = 39 // the CPU the task last ran on (since Linux 2.2.8)
)

// ErrStatSyntax: a stat file's text has no name in parentheses.
var ErrStatSyntax = errors.New("stat file without its (name) field")

// statMax bounds a stat file: 52 numbers of at most 20 digits, a name
// of at most 64 bytes (TASK_COMM_LEN is 16 today).
const statMax = 2048

// ReadTaskStat reads /proc/PID/task/TID/stat, thread tid's. A thread
// list reads it for every thread at every stop: it costs an open, one
// read and a close, without the fstat and the poller registration of
// os.ReadFile (which double the time).
func ReadTaskStat(pid, tid int) (Stat, error) {
	path := fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid)
	var buf [statMax]byte
	n, err := readSmall(path, buf[:])
	if err != nil {
		return Stat{}, &fileError{path: path, err: err}
	}
	return ParseStat(string(buf[:n]))
}

// readSmall reads a file of at most len(buf) bytes with one read(2):
// a /proc file is made whole at its first read.
func readSmall(path string, buf []byte) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// ParseStat is the Stat of a stat file's text.
func ParseStat(text string) (Stat, error) {
	open := strings.IndexByte(text, '(')
	close := strings.LastIndexByte(text, ')')
	if open < 0 || close < open {
		return Stat{}, ErrStatSyntax
	}
	return Stat{name: text[open+1 : close], rest: strings.TrimSpace(text[close+1:])}, nil
}

// Name is field 2, the name, without its parentheses.
func (s Stat) Name() string { return s.name }

// Field returns field n (3 or more; see the Stat* constants) and whether
// the file has it: fields added by newer kernels may be absent.
func (s Stat) Field(n int) (string, bool) {
	if n < 3 {
		return "", false
	}
	rest := s.rest
	for i := 3; rest != ""; i++ {
		f, after, _ := strings.Cut(rest, " ")
		if i == n {
			return f, true
		}
		rest = after
	}
	return "", false
}

// Int returns field n as a decimal number.
func (s Stat) Int(n int) (int64, bool) {
	f, ok := s.Field(n)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(f, 10, 64)
	return v, err == nil
}

// fileError is a failed read of a /proc file: the path and the errno,
// as os's *PathError says them.
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return "read " + e.path + ": " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }
