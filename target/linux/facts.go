package linux

import (
	"fmt"
	"os"
	"strings"

	"gdbserverx/internal/procfs"
	"gdbserverx/target"
)

// facts is the part of a Process that reads what Linux and the
// program's files say about it, rather than what ptrace does to it:
// /proc (auxv, exe, status, each thread's comm and stat, root), the
// dynamic linker's list in memory (svr4.go) and the executable's symbol
// table (symbols.go). Embedded in Process, its methods are the
// Process's capabilities target.AuxvReader, target.ExecFile,
// target.LibraryLister, target.Symbolizer, target.ProcessInfoReader,
// target.ThreadInfo, target.FileRoot and target.TLSResolver (tls.go).
// Like the rest of the Process it belongs to the Tracer's thread; none of
// its methods needs the process stopped, but TLSAddress, which reads the
// thread pointer.
type facts struct {
	p *Process // immutable: the process it is part of
	// syms is the program's symbol table, read at the first SymbolAt;
	// nil again at an exec.
	syms []sizedSymbol
	// tls is glibc's thread-local storage layout, read at the first
	// TLSAddress (tls.go); nil again at an exec.
	tls *tlsLayout
	// cores keeps the stat files of the threads asked about last open
	// (cores.go).
	cores coreFiles
}

// gone is the process's end, or nil while it lives: a pid is not read
// from /proc after its process ended, when the kernel may give the
// number to another.
func (f *facts) gone() error {
	if f.p.over {
		return f.p.ended
	}
	return nil
}

// Auxv returns /proc/PID/auxv.
func (f *facts) Auxv() ([]byte, error) {
	if err := f.gone(); err != nil {
		return nil, err
	}
	return os.ReadFile(fmt.Sprintf("/proc/%d/auxv", f.p.pid))
}

// ExecPath returns the target of /proc/PID/exe.
func (f *facts) ExecPath() (string, error) {
	if err := f.gone(); err != nil {
		return "", err
	}
	return os.Readlink(fmt.Sprintf("/proc/%d/exe", f.p.pid))
}

// ProcessInfo reads the parent and the credentials from /proc/PID/status
// (see target.ProcessInfoReader).
func (f *facts) ProcessInfo() (target.ProcessInfo, error) {
	if err := f.gone(); err != nil {
		return target.ProcessInfo{}, err
	}
	st, err := procfs.ReadStatus(f.p.pid)
	if err != nil {
		return target.ProcessInfo{}, err
	}
	info := target.ProcessInfo{Triple: "x86_64-pc-linux-gnu", OSType: "linux"}
	var ok bool
	if info.PPid, ok = st.Int("PPid"); !ok {
		return target.ProcessInfo{}, fmt.Errorf("/proc/%d/status: no PPid", f.p.pid)
	}
	// Uid and Gid: real, effective, saved set, filesystem.
	uid, gid := st.Words("Uid"), st.Words("Gid")
	if len(uid) < 2 || len(gid) < 2 {
		return target.ProcessInfo{}, fmt.Errorf("/proc/%d/status: Uid %q, Gid %q", f.p.pid, uid, gid)
	}
	for _, id := range []struct {
		dst  *int
		word string
	}{{&info.UID, uid[0]}, {&info.EUID, uid[1]}, {&info.GID, gid[0]}, {&info.EGID, gid[1]}} {
		if _, err := fmt.Sscan(id.word, id.dst); err != nil {
			return target.ProcessInfo{}, fmt.Errorf("/proc/%d/status: id %q: %w", f.p.pid, id.word, err)
		}
	}
	return info, nil
}

// ThreadName is the thread's name, from /proc/PID/task/TID/comm (see
// target.ThreadInfo).
func (f *facts) ThreadName(tid target.Tid) (string, bool) {
	if f.gone() != nil {
		return "", false
	}
	return readComm(f.p.pid, int(tid))
}

// threadName is the name of thread tid, or "" when it cannot be read.
func threadName(pid, tid int) string {
	name, _ := readComm(pid, tid)
	return name
}

func readComm(pid, tid int) (string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", pid, tid))
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(b), "\n"), true
}

// ThreadCore is the CPU the thread last ran on, field 39 (processor) of
// /proc/PID/task/TID/stat (see target.ThreadInfo), read from a file kept
// open (cores.go).
func (f *facts) ThreadCore(tid target.Tid) (int, bool) {
	if f.gone() != nil {
		return 0, false
	}
	return f.cores.core(f.p.pid, int(tid))
}

// FileRoot is /proc/PID/root, through which the server's host sees the
// files of a process in a container or a chroot at their own paths, or
// "/" when the link says the process's root is the server's (see
// target.FileRoot). A link the server may not read gives the directory
// all the same: a file opened through it fails with the reason.
func (f *facts) FileRoot() (string, error) {
	if err := f.gone(); err != nil {
		return "", err
	}
	root := fmt.Sprintf("/proc/%d/root", f.p.pid)
	if link, err := os.Readlink(root); err == nil && link == "/" {
		return "/", nil
	}
	return root, nil
}
