package server

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gdbserverx/target"
)

// factsProcess is the fake target (routing_test.go) with the
// capabilities that tell what the system says about a process
// (target/facts.go), answering with made-up values: the server serves
// the library list, the symbols of notices, qProcessInfo, thread names
// and cores and vFile:setfs from them alone, with no /proc, ELF or link
// map of its own. The real answers are target/linux's, tested there
// against real programs, and through the server by cmd/gdbserverx's
// tests with gdb.
type factsProcess struct {
	*fakeProcess
	libs     target.LibraryList
	libCalls int
	syms     symbolTable
	info     target.ProcessInfo
	names    map[target.Tid]string
	cores    map[target.Tid]int
	root     string
	exe      string
}

func (f *factsProcess) Auxv() ([]byte, error)                    { return nil, nil }
func (f *factsProcess) ExecPath() (string, error)                { return f.exe, nil }
func (f *factsProcess) FileRoot() (string, error)                { return f.root, nil }
func (f *factsProcess) SymbolAt(a uint64) (string, uint64, bool) { return f.syms.SymbolAt(a) }
func (f *factsProcess) ProcessInfo() (target.ProcessInfo, error) {
	return f.info, nil
}
func (f *factsProcess) Libraries() (target.LibraryList, error) {
	f.libCalls++
	return f.libs, nil
}
func (f *factsProcess) ThreadName(tid target.Tid) (string, bool) {
	n, ok := f.names[tid]
	return n, ok
}
func (f *factsProcess) ThreadCore(tid target.Tid) (int, bool) {
	c, ok := f.cores[tid]
	return c, ok
}

// symbolTable is a made-up program's symbols.
type symbolTable []struct {
	addr, size uint64
	name       string
}

func (st symbolTable) SymbolAt(addr uint64) (string, uint64, bool) {
	for _, s := range st {
		if addr >= s.addr && addr < s.addr+s.size {
			return s.name, addr - s.addr, true
		}
	}
	return "", 0, false
}

// factsHarness is a harness whose process is a factsProcess, and one
// client of it.
func factsHarness(t *testing.T) (*harness, *factsProcess, *client) {
	h := newHarness(t)
	f := &factsProcess{
		fakeProcess: h.f,
		libs: target.LibraryList{RDebug: 0x7f0000001000, MainLM: 0x7f0000002000, Libraries: []target.Library{
			{Name: "", LM: 0x7f0000003000, Addr: 0x7ffff7fc1000, LD: 0x7ffff7fc1500}, // a vDSO
			{Name: "/lib/x86_64-linux-gnu/libc.so.6", LM: 0x7f0000004000, Addr: 0x7ffff7dc1000, LD: 0x7ffff7f9d000},
			{Name: "/opt/a&b/<lib>.so", LM: 0x7f0000005000, Addr: 0x7ffff7c00000, LD: 0x7ffff7c04000},
		}},
		syms:  symbolTable{{0x404028, 4, "counter"}, {0x404060, 64, "table"}},
		info:  target.ProcessInfo{PPid: 42, UID: 1000, EUID: 1001, GID: 100, EGID: 101, Triple: "x86_64-pc-linux-gnu", OSType: "linux"},
		names: map[target.Tid]string{100: "prog", 101: "worker & co"},
		cores: map[target.Tid]int{100: 0, 101: 11},
		root:  "/",
		exe:   "/usr/local/bin/prog",
	}
	h.s.setProc(newProcess(f, fakeBackend{}, h.s.log, false, "prog"))
	h.s.procs.main().threads = []target.Tid{100, 101}
	h.s.procs.main().lastTid = 100
	c := h.client()
	return h, f, c
}

// ask sends one packet and returns its one reply.
func ask(t *testing.T, h *harness, c *client, payload string) string {
	t.Helper()
	h.send(c, payload)
	got := h.replies(c)
	if len(got) != 1 {
		t.Fatalf("%s: replies %q, want one", payload, got)
	}
	return got[0]
}

// TestLibrariesFromTarget: qXfer:libraries-svr4:read is the target's
// list in the GDB manual's format ("Library List Format for SVR4
// Targets"): main-lm, each named library with its lmid, names escaped,
// the nameless vDSO left out as gdbserver does. The document is built
// once per stop: gdb reads it in pieces, and the pieces of one read
// agree even if the list changed meanwhile; a new read (offset 0) and
// a resume read the list again.
func TestLibrariesFromTarget(t *testing.T) {
	h, f, c := factsHarness(t)
	want := `<library-list-svr4 version="1.0" main-lm="0x7f0000002000">` +
		`<library name="/lib/x86_64-linux-gnu/libc.so.6" lm="0x7f0000004000" l_addr="0x7ffff7dc1000" l_ld="0x7ffff7f9d000" lmid="0x7f0000001000"/>` +
		`<library name="/opt/a&amp;b/&lt;lib&gt;.so" lm="0x7f0000005000" l_addr="0x7ffff7c00000" l_ld="0x7ffff7c04000" lmid="0x7f0000001000"/>` +
		`</library-list-svr4>`
	if got := ask(t, h, c, "qXfer:libraries-svr4:read::0,fff"); got != "l"+want {
		t.Errorf("library list:\n got %q\nwant %q", got, "l"+want)
	}
	// In pieces: the list changes between them, the pieces do not.
	first := ask(t, h, c, "qXfer:libraries-svr4:read::0,40")
	f.libs.Libraries = f.libs.Libraries[:1]
	rest := ask(t, h, c, fmt.Sprintf("qXfer:libraries-svr4:read::40,%x", len(want)))
	if first != "m"+want[:0x40] || rest != "l"+want[0x40:] {
		t.Errorf("pieces %q + %q, want the document of the first read", first, rest)
	}
	if f.libCalls != 2 {
		t.Errorf("the target was asked %d times for 3 reads and 2 documents", f.libCalls)
	}
	// The next read from the start sees the new list.
	empty := `<library-list-svr4 version="1.0" main-lm="0x7f0000002000"></library-list-svr4>`
	if got := ask(t, h, c, "qXfer:libraries-svr4:read::0,fff"); got != "l"+empty {
		t.Errorf("after the change: %q, want %q", got, "l"+empty)
	}
	// Before the dynamic linker has run (or a static program): no r_debug.
	f.libs = target.LibraryList{}
	if got := ask(t, h, c, "qXfer:libraries-svr4:read::0,fff"); got != `l<library-list-svr4 version="1.0"/>` {
		t.Errorf("without r_debug: %q", got)
	}
	// A piece read after a stop is read again (the cache is dropped at
	// the stop, not only at offset 0).
	f.libs = target.LibraryList{RDebug: 1}
	ask(t, h, c, "qXfer:libraries-svr4:read::0,10")
	h.send(c, "vCont;c")
	h.event(stopped(target.ThreadStop{Tid: 100, Reason: target.StopSignal, Signal: 10}))
	h.replies(c)
	f.libs = target.LibraryList{RDebug: 2}
	doc := `<library-list-svr4 version="1.0"></library-list-svr4>`
	if got := ask(t, h, c, "qXfer:libraries-svr4:read::10,fff"); got != "l"+doc[0x10:] {
		t.Errorf("piece after a stop: %q, want %q", got, "l"+doc[0x10:])
	}
	if f.libCalls != 6 {
		t.Errorf("the target was asked %d times, want 6 (one per document)", f.libCalls)
	}
}

// TestFactsWithoutCapabilities: a target that cannot tell what the
// system says about it gets answers that claim nothing: no library list
// (an empty reply, "not supported"), no names or cores, qProcessInfo
// with what the server knows itself, setfs not supported.
func TestFactsWithoutCapabilities(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for _, tc := range []struct{ packet, want string }{
		{"qXfer:libraries-svr4:read::0,fff", ""},
		{"qXfer:threads:read::0,fff", "l<threads>\n<thread id=\"p64.64\"/>\n<thread id=\"p64.65\"/>\n</threads>\n"},
		{"qThreadExtraInfo,p64.65", ""},
		{"qProcessInfo", "pid:64;name:" + fmt.Sprintf("%x", "prog") + ";endian:little;ptrsize:8;"},
		{"vFile:setfs:64", ""},
	} {
		if got := ask(t, h, c, tc.packet); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.packet, got, tc.want)
		}
	}
	if got := h.s.procs.main().symbolAt(0x404028); got != "" {
		t.Errorf("symbolAt = %q without a Symbolizer", got)
	}
}

// TestProcessFactsFromTarget: qProcessInfo, thread names and cores, and
// symbol names come from the target's capabilities.
func TestProcessFactsFromTarget(t *testing.T) {
	h, _, c := factsHarness(t)
	for _, tc := range []struct{ packet, want string }{
		{"qProcessInfo", "pid:64;parent-pid:2a;real-uid:3e8;real-gid:64;effective-uid:3e9;effective-gid:65;name:" + fmt.Sprintf("%x", "prog") +
			";triple:" + fmt.Sprintf("%x", "x86_64-pc-linux-gnu") + ";ostype:linux;endian:little;ptrsize:8;"},
		// core in decimal, before the name, as gdbserver writes it.
		{"qXfer:threads:read::0,fff", "l<threads>\n<thread id=\"p64.64\" core=\"0\" name=\"prog\"/>\n<thread id=\"p64.65\" core=\"11\" name=\"worker &amp; co\"/>\n</threads>\n"},
		{"qThreadExtraInfo,p64.65", fmt.Sprintf("%x", "worker & co")},
		{"qXfer:exec-file:read::0,fff", "l/usr/local/bin/prog"},
	} {
		if got := ask(t, h, c, tc.packet); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.packet, got, tc.want)
		}
	}
	for addr, want := range map[uint64]string{0x404028: "counter", 0x40402b: "counter+3", 0x404068: "table+8", 0x40402c: "", 0x404000: ""} {
		if got := h.s.procs.main().symbolAt(addr); got != want {
			t.Errorf("symbolAt(%#x) = %q, want %q", addr, got, want)
		}
	}
}

// TestSetFSFromTarget: vFile:setfs with the process's pid makes paths
// the process's, under the root the target gives (a directory standing
// for a container's root here); 0 is the server's own files again; a
// pid the server does not debug is refused (ENOENT) and changes
// nothing.
func TestSetFSFromTarget(t *testing.T) {
	h, f, c := factsHarness(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "inside"), []byte("in the container"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.root = root
	// The client may read /etc (confine.go): in the process's root
	// after setfs, in the server's before.
	h.s.cfg.VFileRoots = []string{"/etc"}
	hexPath := fmt.Sprintf("%x", "/etc/inside")
	open := "vFile:open:" + hexPath + ",0,0"
	if got := ask(t, h, c, open); got != "F-1,2" {
		t.Fatalf("open before setfs: %q, want ENOENT (the server's /etc has no such file)", got)
	}
	for _, tc := range []struct{ packet, want string }{
		{"vFile:setfs:65", "F-1,2"}, // not the process: refused
		{open, "F-1,2"},             // and nothing changed
		{"vFile:setfs:64", "F0"},
		{open, "F1"},
		{"vFile:pread:1,100,0", "F10;in the container"},
		{"vFile:readlink:" + fmt.Sprintf("%x", "/etc"), "F-1,16"}, // a directory, not a link: EINVAL (0x16)
		{"vFile:setfs:0", "F0"},
		{open, "F-1,2"},
	} {
		if got := ask(t, h, c, tc.packet); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.packet, got, tc.want)
		}
	}
	// The process gone: its files with it.
	ask(t, h, c, "vFile:setfs:64")
	h.s.procs = nil
	if got := ask(t, h, c, open); got != "F-1,2" {
		t.Errorf("open after the process ended: %q, want ENOENT", got)
	}
}
