package linux

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

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
// target.ThreadInfo, target.ProcessFiles, target.FileRoot,
// target.MemoryRegionReader and target.TLSResolver (tls.go). Like the
// rest of the Process it belongs to the Tracer's thread; none of its
// methods needs the process stopped, but TLSAddress, which reads the
// thread pointer.
type facts struct {
	p *Process // immutable: the process it is part of
	// stats holds threads' stat files open, for ThreadCore (cores.go).
	stats statFiles
	// syms is the program's symbol table, read at the first SymbolAt;
	// nil again at an exec.
	syms []sizedSymbol
	// tls is glibc's thread-local storage layout, read at the first
	// TLSAddress (tls.go); nil again at an exec.
	tls *tlsLayout
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

// MemoryRegion finds the mapping that holds addr in /proc/PID/maps (see
// target.MemoryRegionReader).
func (f *facts) MemoryRegion(addr uint64) (target.MemoryRegion, error) {
	if err := f.gone(); err != nil {
		return target.MemoryRegion{}, err
	}
	m, mapped, err := procfs.RegionAt(f.p.pid, addr)
	if err != nil {
		return target.MemoryRegion{}, err
	}
	r := target.MemoryRegion{Start: m.Start, Size: m.End - m.Start, Mapped: mapped, Name: m.Path}
	if m.End == 0 {
		r.Size = ^uint64(0) - m.Start // the gap after the last mapping
	}
	if mapped {
		r.Read, r.Write, r.Execute = m.Perms[0] == 'r', m.Perms[1] == 'w', m.Perms[2] == 'x'
	}
	return r, nil
}

// ThreadCore is the CPU the thread last ran on, field 39 (processor) of
// /proc/PID/task/TID/stat, read from the file kept open (cores.go; see
// target.ThreadInfo).
func (f *facts) ThreadCore(tid target.Tid) (int, bool) {
	if f.gone() != nil {
		return 0, false
	}
	return f.stats.core(f.p.pid, int(tid))
}

// ProcessDir is /proc/PID (see target.ProcessFiles).
func (f *facts) ProcessDir() string { return fmt.Sprintf("/proc/%d", f.p.pid) }

// MappedFiles gives the identities of /proc/PID/exe and of the files
// /proc/PID/maps lists (see target.ProcessFiles): by the numbers maps
// gives, and by the paths it gives, as they stat in the process's root
// (FileRoot), since the two differ on overlayfs, which maps shows the
// underlying file of.
func (f *facts) MappedFiles() ([]target.FileID, error) {
	if err := f.gone(); err != nil {
		return nil, err
	}
	var ids []target.FileID
	var st unix.Stat_t
	if unix.Stat(fmt.Sprintf("/proc/%d/exe", f.p.pid), &st) == nil {
		ids = append(ids, target.FileID{Dev: st.Dev, Ino: st.Ino})
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", f.p.pid))
	if err != nil {
		return ids, err
	}
	root, err := f.FileRoot()
	if err != nil || root == "/" {
		root = ""
	}
	var last string
	for line := range strings.Lines(string(maps)) {
		id, path, ok := mappedFile(line)
		if !ok {
			continue
		}
		ids = append(ids, id)
		if path != "" && path != last && unix.Stat(root+path, &st) == nil {
			ids = append(ids, target.FileID{Dev: st.Dev, Ino: st.Ino})
		}
		last = path
	}
	return ids, nil
}

// mappedFile reads a line of /proc/PID/maps (proc(5)): "start-end perms
// offset major:minor inode   path". It gives the file's identity and
// path (path "" when the file was deleted); ok is false for anonymous
// mappings.
func mappedFile(line string) (target.FileID, string, bool) {
	rest := line
	var fields [5]string
	for i := range fields {
		rest = strings.TrimLeft(rest, " ")
		var ok bool
		if fields[i], rest, ok = strings.Cut(rest, " "); !ok && i < 4 {
			return target.FileID{}, "", false
		}
	}
	ino, err := strconv.ParseUint(fields[4], 10, 64)
	if err != nil || ino == 0 {
		return target.FileID{}, "", false
	}
	maj, min, ok := strings.Cut(fields[3], ":")
	ma, err1 := strconv.ParseUint(maj, 16, 32)
	mi, err2 := strconv.ParseUint(min, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return target.FileID{}, "", false
	}
	path := strings.TrimRight(strings.TrimLeft(rest, " "), "\n")
	if !strings.HasPrefix(path, "/") || strings.HasSuffix(path, " (deleted)") {
		path = ""
	}
	return target.FileID{Dev: unix.Mkdev(uint32(ma), uint32(mi)), Ino: ino}, path, true
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
