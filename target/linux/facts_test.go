package linux

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/target"
)

// factsProgram compiles testdata/facts.c, linked with its shared library
// by the library's path (so that the dynamic linker opens that very
// path), as a position-independent executable or not. It returns the
// program and the library.
func factsProgram(t testing.TB, pie bool) (bin, lib string) {
	t.Helper()
	lib = gdbtest.CompileC(t, filepath.Join("testdata", "facts_lib.c"), "-shared", "-fPIC")
	flags := []string{"-pie", "-fPIE"}
	if !pie {
		flags = []string{"-no-pie", "-fno-pie"}
	}
	bin = gdbtest.CompileC(t, filepath.Join("testdata", "facts.c"), append(flags, lib)...)
	return bin, lib
}

// launchFacts starts bin with args; the test kills it when it ends.
func launchFacts(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	p, err := launchCfg(t, Config{Path: bin, Args: append([]string{bin}, args...)})
	if err != nil {
		t.Fatalf("Launch(%s): %v", bin, err)
	}
	t.Cleanup(func() { cleanup(t, p) })
	return p
}

// toSignal runs facts to its SIGUSR1: its libraries are loaded, its
// worker named, its variables set. Other signals go to the program (glibc
// changes the ids of every thread with one: SIGSETXID).
func toSignal(t testing.TB, p *Process) {
	t.Helper()
	var sig target.Signal
	for {
		if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: sig}}); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		ev := next(t, p)
		if len(ev.Stops) != 1 || ev.Stops[0].Reason != target.StopSignal {
			t.Fatalf("event %+v, want SIGUSR1", ev)
		}
		if sig = ev.Stops[0].Signal; sig == target.Signal(unix.SIGUSR1) {
			return
		}
	}
}

// mapping is one line of /proc/PID/maps.
type mapping struct {
	start, end, off uint64
	inode           uint64
	path            string
}

func mappings(t testing.TB, pid int) []mapping {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []mapping
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m mapping
		var perms, dev string
		if _, err := fmt.Sscanf(l, "%x-%x %s %x %s %d", &m.start, &m.end, &perms, &m.off, &dev, &m.inode); err != nil {
			t.Fatalf("maps line %q: %v", l, err)
		}
		if f := strings.Fields(l); len(f) > 5 {
			m.path = f[5]
		}
		out = append(out, m)
	}
	return out
}

// lowest is the start of the first mapping of the file with inode ino.
func lowest(maps []mapping, ino uint64) (uint64, bool) {
	for _, m := range maps {
		if m.inode == ino {
			return m.start, true // maps is sorted by address
		}
	}
	return 0, false
}

func inodeOf(t testing.TB, path string) (uint64, bool) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, false
	}
	return st.Ino, true
}

// elfLayout is what a file's program headers say: the page of its first
// PT_LOAD and the link-time address of its dynamic section.
func elfLayout(t testing.TB, path string) (firstLoad, dynamic uint64, typ elf.Type) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := true
	for _, ph := range f.Progs {
		switch {
		case ph.Type == elf.PT_LOAD && first:
			firstLoad, first = ph.Vaddr&^(pageSize-1), false
		case ph.Type == elf.PT_DYNAMIC:
			dynamic = ph.Vaddr
		}
	}
	return firstLoad, dynamic, f.Type
}

// biasOf is the load bias of the file with inode ino (at path) in maps:
// where it is minus where it was linked.
func biasOf(t testing.TB, maps []mapping, ino uint64, path string) uint64 {
	t.Helper()
	at, ok := lowest(maps, ino)
	if !ok {
		t.Fatalf("%s is not mapped", path)
	}
	first, _, _ := elfLayout(t, path)
	return at - first
}

// TestLibraries reads the dynamic linker's list of a program linked with
// a library of its own, PIE or not, and checks it against what the
// kernel (/proc/PID/maps) and the files' program headers say: each
// named object is a file mapped at its l_addr, with its dynamic section
// at l_ld; every shared object mapped is listed; the program's own
// link_map is main-lm. At the exec stop the linker has not run: there is
// no list.
func TestLibraries(t *testing.T) {
	for _, pie := range []bool{true, false} {
		t.Run(fmt.Sprintf("pie=%v", pie), func(t *testing.T) {
			bin, lib := factsProgram(t, pie)
			p := launchFacts(t, bin)
			list, err := p.Libraries()
			if err != nil || list.RDebug != 0 || list.MainLM != 0 || len(list.Libraries) != 0 {
				t.Errorf("at the exec stop: %+v, %v; want an empty list", list, err)
			}
			toSignal(t, p)
			list, err = p.Libraries()
			if err != nil {
				t.Fatal(err)
			}
			if list.RDebug == 0 || list.MainLM == 0 {
				t.Fatalf("r_debug %#x, main-lm %#x", list.RDebug, list.MainLM)
			}
			maps := mappings(t, p.Pid())
			checkMainLM(t, p, maps, bin, list.MainLM)
			listed := map[uint64]bool{}
			for _, l := range list.Libraries {
				t.Logf("%#x %q l_addr %#x l_ld %#x", l.LM, l.Name, l.Addr, l.LD)
				if l.LM == list.MainLM || l.LM == 0 {
					t.Errorf("library %q at link_map %#x", l.Name, l.LM)
				}
				ino, ok := inodeOf(t, l.Name)
				if !ok {
					// The vDSO is no file: glibc names it "" (or by its
					// soname), and it is mapped at its l_addr.
					if at, _ := lowestPath(maps, "[vdso]"); l.Addr != at {
						t.Errorf("%q is neither a file nor the vDSO (at %#x)", l.Name, at)
					}
					continue
				}
				listed[ino] = true
				if bias := biasOf(t, maps, ino, l.Name); l.Addr != bias {
					t.Errorf("%s: l_addr %#x, mapped with bias %#x", l.Name, l.Addr, bias)
				}
				if _, dyn, _ := elfLayout(t, l.Name); l.LD != l.Addr+dyn {
					t.Errorf("%s: l_ld %#x, want %#x", l.Name, l.LD, l.Addr+dyn)
				}
			}
			if ino, _ := inodeOf(t, lib); !listed[ino] || !hasName(list, lib) {
				t.Errorf("%s (the program's own library, by its path) is not listed", lib)
			}
			exe, _ := inodeOf(t, bin)
			for _, m := range maps {
				if m.inode == 0 || m.inode == exe || listed[m.inode] || m.off != 0 {
					continue
				}
				if _, _, typ := elfLayout(t, m.path); typ == elf.ET_DYN {
					t.Errorf("%s is mapped but not listed", m.path)
				}
			}
		})
	}
}

// checkMainLM checks the program's own link_map: its l_addr is the
// program's load bias, its l_ld its dynamic section.
func checkMainLM(t *testing.T, p *Process, maps []mapping, bin string, lm uint64) {
	t.Helper()
	var ent [linkMapSize]byte
	if n, err := p.ReadMemory(lm, ent[:]); n != len(ent) {
		t.Fatalf("read main link_map at %#x: %v", lm, err)
	}
	ino, _ := inodeOf(t, bin)
	bias := biasOf(t, maps, ino, bin)
	_, dyn, _ := elfLayout(t, bin)
	if got := le.Uint64(ent[0:]); got != bias {
		t.Errorf("main link_map l_addr %#x, want the bias %#x", got, bias)
	}
	if got := le.Uint64(ent[16:]); got != bias+dyn {
		t.Errorf("main link_map l_ld %#x, want %#x", got, bias+dyn)
	}
}

func lowestPath(maps []mapping, path string) (uint64, bool) {
	for _, m := range maps {
		if m.path == path {
			return m.start, true
		}
	}
	return 0, false
}

func hasName(list target.LibraryList, name string) bool {
	for _, l := range list.Libraries {
		if l.Name == name {
			return true
		}
	}
	return false
}

// TestSymbolAt names the program's variables and functions at their
// run-time addresses, PIE (relocated by the load bias) or not: the
// addresses are checked by the values the program stored there.
func TestSymbolAt(t *testing.T) {
	for _, pie := range []bool{true, false} {
		t.Run(fmt.Sprintf("pie=%v", pie), func(t *testing.T) {
			bin, _ := factsProgram(t, pie)
			p := launchFacts(t, bin)
			toSignal(t, p)
			ino, _ := inodeOf(t, bin)
			bias := biasOf(t, mappings(t, p.Pid()), ino, bin)
			counter := bias + symbol(t, bin, "facts_counter")
			table := bias + symbol(t, bin, "facts_table")
			first, _, _ := elfLayout(t, bin)
			// facts_counter = 3 * argc; facts_table[1] = facts_counter.
			var b [8]byte
			if _, err := p.ReadMemory(counter, b[:]); err != nil || le.Uint64(b[:]) != 3 {
				t.Fatalf("facts_counter at %#x holds %d (%v): not the run-time address", counter, le.Uint64(b[:]), err)
			}
			if _, err := p.ReadMemory(table+8, b[:]); err != nil || le.Uint64(b[:]) != 3 {
				t.Fatalf("facts_table[1] at %#x holds %d (%v)", table+8, le.Uint64(b[:]), err)
			}
			for _, tc := range []struct {
				addr uint64
				name string
				off  uint64
				ok   bool
			}{
				{counter, "facts_counter", 0, true},
				{counter + 7, "facts_counter", 7, true},
				{table + 11, "facts_table", 11, true},
				{bias + symbol(t, bin, "main"), "main", 0, true},
				{bias + first, "", 0, false}, // the ELF header: no symbol
				{0, "", 0, false},
			} {
				name, off, ok := p.SymbolAt(tc.addr)
				if name != tc.name || off != tc.off || ok != tc.ok {
					t.Errorf("SymbolAt(%#x) = %q+%d, %v; want %q+%d, %v", tc.addr, name, off, ok, tc.name, tc.off, tc.ok)
				}
			}
		})
	}
}

// TestSymbolsAfterExec: a position-independent program that execs
// itself runs at a new load bias (address randomisation is on); its
// symbols are read again for the new image.
func TestSymbolsAfterExec(t *testing.T) {
	bin := gdbtest.CompileC(t, filepath.Join("testdata", "execthread.c"), "-pie", "-fPIE")
	p := launchFacts(t, bin)
	ino, _ := inodeOf(t, bin)
	mainAt := func() uint64 { return biasOf(t, mappings(t, p.Pid()), ino, bin) + symbol(t, bin, "main") }
	before := mainAt()
	if name, off, ok := p.SymbolAt(before); name != "main" || off != 0 || !ok {
		t.Fatalf("before the exec: SymbolAt(%#x) = %q+%d, %v", before, name, off, ok)
	}
	cont(t, p)
	ev := nextReal(t, p)
	if st := onlyStop(t, ev); st.Reason != target.StopExec {
		t.Fatalf("stop %+v, want the exec", st)
	}
	after := mainAt()
	if after == before {
		t.Skipf("the new image is at the same address %#x (randomisation off?): nothing to check", after)
	}
	if name, off, ok := p.SymbolAt(after); name != "main" || off != 0 || !ok {
		t.Errorf("after the exec: SymbolAt(%#x) = %q+%d, %v; want main (the old image's main was at %#x)", after, name, off, ok, before)
	}
}

// TestProcessInfo: the parent is this test (Launch forks it), and the
// credentials are the program's own; as root, the program takes ids of
// its own (real, effective and saved all different) to tell them apart.
func TestProcessInfo(t *testing.T) {
	bin, _ := factsProgram(t, true)
	want := target.ProcessInfo{PPid: os.Getpid(), UID: os.Getuid(), EUID: os.Geteuid(), GID: os.Getgid(), EGID: os.Getegid(),
		Triple: "x86_64-pc-linux-gnu", OSType: "linux"}
	args := []string{}
	if os.Geteuid() == 0 {
		args = []string{"ids"}
		want.UID, want.EUID, want.GID, want.EGID = 1001, 1002, 101, 102
	} else {
		t.Log("not root: the program keeps this test's ids")
	}
	p := launchFacts(t, bin, args...)
	toSignal(t, p)
	got, err := p.ProcessInfo()
	if err != nil || got != want {
		t.Errorf("ProcessInfo() = %+v, %v; want %+v", got, err, want)
	}
	cleanup(t, p)
	if _, err := p.ProcessInfo(); !errors.Is(err, target.ErrExited) {
		t.Errorf("ProcessInfo() after the end: %v, want ErrExited", err)
	}
}

// TestMemoryRegion: the mapping of the program's pc is its executable,
// readable and executable, not writable, as /proc/PID/maps says; the
// page at 0 is a gap; after the process's end there is no answer.
func TestMemoryRegion(t *testing.T) {
	bin, _ := factsProgram(t, true)
	p := launchFacts(t, bin)
	toSignal(t, p)
	regs := make([]byte, p.Description().Size())
	rip, _ := p.Description().Lookup("rip")
	if err := p.ReadRegisters(target.Tid(p.Pid()), regs); err != nil {
		t.Fatal(err)
	}
	var pc uint64
	for i := rip.Bits/8 - 1; i >= 0; i-- {
		pc = pc<<8 | uint64(regs[rip.Offset+i])
	}
	r, err := p.MemoryRegion(pc)
	if err != nil || !r.Mapped || !r.Read || !r.Execute || r.Write || pc < r.Start || pc-r.Start >= r.Size || r.Name == "" {
		t.Errorf("MemoryRegion(pc %#x) = %+v, %v; want the executable mapping that holds it", pc, r, err)
	}
	t.Logf("pc %#x in %s", pc, r.Name)
	gap, err := p.MemoryRegion(0)
	if err != nil || gap.Mapped || gap.Start != 0 || gap.Size == 0 {
		t.Errorf("MemoryRegion(0) = %+v, %v; want a gap", gap, err)
	}
	cleanup(t, p)
	if _, err := p.MemoryRegion(pc); !errors.Is(err, target.ErrExited) {
		t.Errorf("MemoryRegion after the end: %v, want ErrExited", err)
	}
}

// TestThreadInfo: each thread's name is the one it goes by (the worker
// named itself), and its core the CPU it last ran on: the program is
// started on one CPU only (it inherits this thread's affinity), the
// highest this test may use, so that a constant 0 would not pass on a
// machine of several CPUs.
func TestThreadInfo(t *testing.T) {
	bin, _ := factsProgram(t, true)
	tracerFor(t) // this goroutine's thread is the tracer, which forks the program
	var all, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	cpu := 0
	for i := 0; i < 1024; i++ { // a CPUSet holds 1024 CPUs
		if all.IsSet(i) {
			cpu = i
		}
	}
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	p := launchFacts(t, bin)
	if err := unix.SchedSetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	t.Logf("program on CPU %d of %d", cpu, all.Count())
	toSignal(t, p)
	threads, err := p.Threads()
	if err != nil || len(threads) != 2 {
		t.Fatalf("Threads() = %v, %v; want the main thread and the worker", threads, err)
	}
	for i, want := range []string{"facts", "facts-worker"} {
		tid := threads[i].Tid
		if name, ok := p.ThreadName(tid); name != want || !ok {
			t.Errorf("ThreadName(%d) = %q, %v; want %q", tid, name, ok, want)
		}
		if core, ok := p.ThreadCore(tid); core != cpu || !ok {
			t.Errorf("ThreadCore(%d) = %d, %v; want %d", tid, core, ok, cpu)
		}
	}
	// The stat file stays open (cores.go) and is read anew: the main
	// thread moved to another CPU reports that one at its next stop.
	if other := otherCPU(all, cpu); other < 0 {
		t.Log("one CPU: the move to another is not checked")
	} else {
		var set unix.CPUSet
		set.Set(other)
		main := threads[0].Tid
		if err := unix.SchedSetaffinity(int(main), &set); err != nil {
			t.Fatal(err)
		}
		toSignal(t, p)
		if core, ok := p.ThreadCore(main); core != other || !ok {
			t.Errorf("ThreadCore(%d) after a move to CPU %d = %d, %v", main, other, core, ok)
		}
	}
	if _, ok := p.ThreadCore(1 << 30); ok {
		t.Error("ThreadCore of a thread that cannot exist says ok")
	}
	if _, ok := p.ThreadName(1 << 30); ok {
		t.Error("ThreadName of a thread that cannot exist says ok")
	}
	cleanup(t, p)
	if _, ok := p.ThreadCore(threads[0].Tid); ok {
		t.Error("ThreadCore after the end says ok")
	}
}

// otherCPU is the first CPU of set other than cpu, or -1.
func otherCPU(set unix.CPUSet, cpu int) int {
	for i := 0; i < 1024; i++ {
		if i != cpu && set.IsSet(i) {
			return i
		}
	}
	return -1
}

// TestFileRoot: a process sees the server's files ("/") until it
// chroots (as root only: CAP_SYS_CHROOT); then its files are under
// /proc/PID/root, where the test finds the one it put in the new root.
func TestFileRoot(t *testing.T) {
	bin, _ := factsProgram(t, true)
	p := launchFacts(t, bin)
	if root, err := p.FileRoot(); root != "/" || err != nil {
		t.Errorf("FileRoot() = %q, %v; want /", root, err)
	}
	cleanup(t, p)
	if _, err := p.FileRoot(); !errors.Is(err, target.ErrExited) {
		t.Errorf("FileRoot() after the end: %v, want ErrExited", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot chroot")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = launchFacts(t, bin, "chroot", dir)
	toSignal(t, p)
	root, err := p.FileRoot()
	if want := fmt.Sprintf("/proc/%d/root", p.Pid()); root != want || err != nil {
		t.Fatalf("FileRoot() in a chroot = %q, %v; want %q", root, err, want)
	}
	if b, err := os.ReadFile(root + "/marker"); string(b) != "inside" {
		t.Errorf("%s/marker: %q, %v", root, b, err)
	}
}

// TestProcessFiles: the process's directory is /proc/PID, and its files
// are its executable, the dynamic linker, libc and its own library,
// each by the identity a stat of its path gives, whichever path: the
// linker's PT_INTERP path is a link to the file mapped.
func TestProcessFiles(t *testing.T) {
	bin, lib := factsProgram(t, true)
	p := launchFacts(t, bin)
	if dir := p.ProcessDir(); dir != fmt.Sprintf("/proc/%d", p.Pid()) {
		t.Errorf("ProcessDir() = %q", dir)
	}
	id := func(path string) target.FileID {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		return target.FileID{Dev: st.Dev, Ino: st.Ino}
	}
	has := func(ids []target.FileID, path string) bool {
		want := id(path)
		for _, i := range ids {
			if i == want {
				return true
			}
		}
		return false
	}
	ids, err := p.MappedFiles()
	if err != nil {
		t.Fatal(err)
	}
	// At the first instruction: the program and the dynamic linker.
	if !has(ids, bin) || !has(ids, "/lib64/ld-linux-x86-64.so.2") {
		t.Errorf("at the start, MappedFiles lacks the program or ld.so: %v", ids)
	}
	if has(ids, lib) {
		t.Errorf("at the start, the library is mapped already: %v", ids)
	}
	toSignal(t, p)
	if ids, err = p.MappedFiles(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bin, lib, "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"} {
		if !has(ids, path) {
			t.Errorf("MappedFiles lacks %s", path)
		}
	}
	if has(ids, "/etc/passwd") {
		t.Errorf("MappedFiles has /etc/passwd")
	}
	cleanup(t, p)
	if _, err := p.MappedFiles(); !errors.Is(err, target.ErrExited) {
		t.Errorf("MappedFiles() after the end: %v, want ErrExited", err)
	}
}

// TestMappedFileLine reads lines of /proc/PID/maps as proc(5) gives
// them.
func TestMappedFileLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		id   target.FileID
		path string
		ok   bool
	}{
		{"562176bce000-562176bd0000 r--p 00000000 fe:00 247026                     /usr/bin/cat\n", target.FileID{Dev: unix.Mkdev(0xfe, 0), Ino: 247026}, "/usr/bin/cat", true},
		{"7f00-7f01 r-xp 00000000 103:02 12 /a b/with space\n", target.FileID{Dev: unix.Mkdev(0x103, 2), Ino: 12}, "/a b/with space", true},
		{"7f00-7f01 r-xp 00000000 08:01 99 /tmp/x (deleted)\n", target.FileID{Dev: unix.Mkdev(8, 1), Ino: 99}, "", true},
		{"7ffd-7ffe rw-p 00000000 00:00 0                          [stack]\n", target.FileID{}, "", false},
		{"7ffd-7ffe rw-p 00000000 00:00 0\n", target.FileID{}, "", false},
		{"garbage\n", target.FileID{}, "", false},
	} {
		id, path, ok := mappedFile(tc.line)
		if id != tc.id || path != tc.path || ok != tc.ok {
			t.Errorf("mappedFile(%q) = %v, %q, %v; want %v, %q, %v", tc.line, id, path, ok, tc.id, tc.path, tc.ok)
		}
	}
}
