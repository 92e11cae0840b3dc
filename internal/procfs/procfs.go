// Package procfs reads the Linux /proc files that more than one package
// of the project needs, so that each is parsed in one place. Today that
// is the status file of a process or of one of its threads (proc(5),
// "/proc/pid/status"): the target reads a thread's tracer and state
// there, and a process's parent and ids, the software-watchpoint engine
// a process's caught signals and shadow stack; and the stat file of a
// thread ("/proc/pid/stat", stat.go), whose processor field is the CPU
// it last ran on; and the maps file of a process ("/proc/pid/maps",
// maps.go), for what is mapped at an address (lldb's
// qMemoryRegionInfo).
//
// It imports no package of the project and has no state: every call
// reads the file again (what it says changes from one moment to the
// next), and a Status is a plain value owned by its caller.
package procfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Status is the text of a status file: one "Name:\tvalue" line per field.
type Status struct {
	text string
}

// ReadStatus reads /proc/PID/status, the process's (its main thread's,
// for the per-thread fields).
func ReadStatus(pid int) (Status, error) {
	return readStatus(fmt.Sprintf("/proc/%d/status", pid))
}

// ReadTaskStatus reads /proc/PID/task/TID/status, thread tid's.
func ReadTaskStatus(pid, tid int) (Status, error) {
	return readStatus(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
}

// ReadSelfStatus reads /proc/self/status, the calling process's.
func ReadSelfStatus() (Status, error) { return readStatus("/proc/self/status") }

func readStatus(path string) (Status, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Status{}, err // *fs.PathError: the path and the errno
	}
	return ParseStatus(string(b)), nil
}

// ParseStatus is the Status of a status file's text.
func ParseStatus(text string) Status { return Status{text: text} }

// Field returns the value of field name (without its colon), spaces
// around it removed, and whether the file has the field. Fields that
// depend on the kernel's version or configuration (x86_Thread_features
// since Linux 6.6, say) may be absent.
func (s Status) Field(name string) (string, bool) {
	rest := s.text
	for rest != "" {
		line, after, _ := strings.Cut(rest, "\n")
		rest = after
		if v, ok := strings.CutPrefix(line, name); ok && strings.HasPrefix(v, ":") {
			return strings.TrimSpace(v[1:]), true
		}
	}
	return "", false
}

// Int returns the first word of field name as a decimal number (Tgid,
// TracerPid, PPid; the real id of Uid and Gid).
func (s Status) Int(name string) (int, bool) {
	v, ok := s.Field(name)
	if !ok {
		return 0, false
	}
	w, _, _ := strings.Cut(v, "\t")
	n, err := strconv.Atoi(strings.TrimSpace(w))
	return n, err == nil
}

// Mask returns field name as a hexadecimal mask (SigCgt, SigBlk, SigPnd:
// bit n-1 for signal n).
func (s Status) Mask(name string) (uint64, bool) {
	v, ok := s.Field(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 16, 64)
	return n, err == nil
}

// Words returns the words of field name (Uid and Gid: real, effective,
// saved, filesystem; x86_Thread_features: the features on).
// It returns nil for an absent field.
func (s Status) Words(name string) []string {
	v, ok := s.Field(name)
	if !ok {
		return nil
	}
	return strings.Fields(v)
}
