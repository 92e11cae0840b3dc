package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/rsp"
)

// stopAt inserts a breakpoint at sym, continues to it and removes it.
func stopAt(t *testing.T, c *rsp.Client, prog, sym string) string {
	t.Helper()
	addr := gdbtest.Symbol(t, prog, sym)
	if r := call(t, c, fmt.Sprintf("Z0,%x,1", addr)); r != "OK" {
		t.Fatalf("Z0 at %s: %q", sym, r)
	}
	stop := call(t, c, "vCont;c")
	if !strings.HasPrefix(stop, "T05") {
		t.Fatalf("continue to %s: %q", sym, stop)
	}
	call(t, c, fmt.Sprintf("z0,%x,1", addr))
	return stop
}

// TestLibrariesPerClient: gdb and lldb at once on one program, each
// served the answers it reads right. gdb's library list has main-lm (gdb
// 13 needs it), lldb's has none (lldb would read a pointer to r_debug
// there: garbage, and no library); gdb gets gdb's target.xml, lldb
// lldb-server's form, with register sets. lldb's queries: thread names
// and stop reasons (jThreadsInfo, qThreadStopInfo), watchpoints reported
// after the access (qHostInfo), mappings (qMemoryRegionInfo). Both get
// core:N in stop replies, as from gdbserver.
func TestLibrariesPerClient(t *testing.T) {
	prog := gdbtest.Program(t, "clients", "-no-pie", "-fno-pie")
	srv := serve(t, prog)
	g, _ := dial(t, srv)
	if r := call(t, g, "qSupported:multiprocess+;swbreak+;xmlRegisters=i386"); !strings.Contains(r, "qXfer:libraries-svr4:read+") {
		t.Fatalf("qSupported: %q", r)
	}
	stop := stopAt(t, g, prog, "ready")
	if !regexp.MustCompile(`;core:[0-9a-f]+;`).MatchString(stop) {
		t.Errorf("stop reply without core: %q", stop)
	}
	libs := call(t, g, "qXfer:libraries-svr4:read::0,ffff")
	if !strings.Contains(libs, ` main-lm="0x`) || !strings.Contains(libs, "libc.so.6") {
		t.Errorf("gdb's library list: %q, want main-lm and libc", libs)
	}
	if x := call(t, g, "qXfer:features:read:target.xml:0,ffff"); !strings.Contains(x, `<feature name="org.gnu.gdb.i386.core">`) {
		t.Errorf("gdb's target.xml is not gdb's: %.200q", x)
	}

	l, _ := dial(t, srv)
	call(t, l, "qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+")
	for _, p := range []string{"QThreadSuffixSupported", "QListThreadsInStopReply"} {
		if r := call(t, l, p); r != "OK" {
			t.Fatalf("%s: %q", p, r)
		}
	}
	libs = call(t, l, "qXfer:libraries-svr4:read::0,ffff")
	if strings.Contains(libs, "main-lm") || !strings.Contains(libs, "libc.so.6") {
		t.Errorf("lldb's library list: %q, want libc and no main-lm", libs)
	}
	x := call(t, l, "qXfer:features:read:target.xml:0,ffff")
	for _, want := range []string{`group="General Purpose Registers"`, `group="Floating Point Registers"`, `generic="pc"`, `dwarf_regnum="16"`} {
		if !strings.Contains(x, want) {
			t.Errorf("lldb's target.xml has no %s: %.300q", want, x)
		}
	}
	if r := call(t, l, "qHostInfo"); !strings.Contains(r, "watchpoint_exceptions_received:after;") || !strings.Contains(r, "ptrsize:8;") {
		t.Errorf("qHostInfo: %q", r)
	}
	if r := call(t, l, fmt.Sprintf("qMemoryRegionInfo:%x", gdbtest.Symbol(t, prog, "ready"))); !strings.Contains(r, "permissions:rx;") {
		t.Errorf("qMemoryRegionInfo of code: %q", r)
	}
	if r := call(t, l, "qShlibInfoAddr"); r != "" {
		t.Errorf("qShlibInfoAddr: %q, want lldb-server's empty reply", r)
	}
	var threads []struct {
		Tid    int
		Name   string
		Reason string
	}
	if err := json.Unmarshal([]byte(call(t, l, "jThreadsInfo")), &threads); err != nil {
		t.Fatalf("jThreadsInfo: %v", err)
	}
	names := map[string]bool{}
	for _, th := range threads {
		names[th.Name] = true
	}
	if len(threads) != 2 || !names["clients"] || !names["worker-1"] {
		t.Errorf("jThreadsInfo: %+v, want clients and worker-1", threads)
	}
	for _, th := range threads {
		r := call(t, l, fmt.Sprintf("qThreadStopInfo%x", th.Tid))
		if !regexp.MustCompile(fmt.Sprintf(`thread:p[0-9a-f]+\.%x;`, th.Tid)).MatchString(r) {
			t.Errorf("qThreadStopInfo%x: %q, not about that thread", th.Tid, r)
		}
		if !strings.Contains(r, "name:"+th.Name+";") {
			t.Errorf("qThreadStopInfo%x: %q, no name:%s", th.Tid, r, th.Name)
		}
	}
	// gdb still reads main-lm, while lldb is attached too.
	if libs := call(t, g, "qXfer:libraries-svr4:read::0,ffff"); !strings.Contains(libs, ` main-lm="0x`) {
		t.Errorf("gdb's library list beside lldb: %q", libs)
	}
}

// TestResumeExitedThread: a client that steps a thread that has exited
// since the stop it was told (Delve, stepping the thread of a breakpoint
// while another thread called exit) is answered N, "no thread left to
// resume" (it sent no-resumed+), and may go on; it got E05 and a dead
// session before.
func TestResumeExitedThread(t *testing.T) {
	prog := gdbtest.Program(t, "threads", "-no-pie", "-fno-pie")
	srv := serve(t, prog, "2")
	c, _ := dial(t, srv)
	if r := call(t, c, "qSupported:multiprocess+;swbreak+;no-resumed+"); !strings.Contains(r, "no-resumed+") {
		t.Errorf("qSupported: %q, want no-resumed+", r)
	}
	stopAt(t, c, prog, "all_started")
	list := call(t, c, "qfThreadInfo")
	ids := strings.Split(strings.TrimPrefix(list, "m"), ",")
	if len(ids) != 5 {
		t.Fatalf("threads at all_started: %q, want main and 4 workers", list)
	}
	worker := ids[4]
	stopAt(t, c, prog, "wave_done") // the workers of the wave are joined: gone
	if r := call(t, c, "T"+worker); r == "OK" {
		t.Fatalf("worker %s still alive at wave_done", worker)
	}
	if r := call(t, c, "vCont;s:"+worker); r != "N" {
		t.Errorf("step of exited thread %s: %q, want N", worker, r)
	}
	// The session goes on: the program runs to its end.
	if r := call(t, c, "vCont;c"); !strings.HasPrefix(r, "W00") {
		t.Errorf("continue to the end: %q, want W00", r)
	}
}

// TestMICore: an IDE's gdb/MI shows the CPU each thread last ran on,
// core="N" in *stopped and in -thread-info, as with gdbserver (core:N in
// stop replies, core= in qXfer:threads).
func TestMICore(t *testing.T) {
	prog := gdbtest.Program(t, "clients")
	srv := serve(t, prog)
	mi := gdbtest.StartMI(t)
	if r := mi.Cmd("-file-exec-and-symbols " + prog); r.Class != "done" {
		t.Fatalf("-file-exec-and-symbols: %+v", r)
	}
	if r := mi.Cmd("-target-select remote " + srv.Addr()); r.Class != "connected" {
		t.Fatalf("-target-select: %+v", r)
	}
	mi.Cmd("-break-insert ready")
	mi.Cmd("-exec-continue")
	stopped := mi.Stopped()
	core := regexp.MustCompile(`core="(\d+)"`)
	if !strings.Contains(stopped, `func="ready"`) || !core.MatchString(stopped) {
		t.Errorf("*stopped: %s, want ready and core=\"N\"", stopped)
	}
	r := mi.Cmd("-thread-info")
	if n := len(core.FindAllString(r.Rest, -1)); n != 2 {
		t.Errorf("-thread-info: %s, want core=\"N\" for each of the 2 threads", r.Rest)
	}
	mi.Cmd("kill")
}
