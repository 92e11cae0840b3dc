package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestIDESession is the gdb/MI session of an IDE on gdbserverx, as the
// README's VS Code launch.json (cppdbg: "miDebuggerServerAddress") and
// CLion's "Remote Debug" configuration drive it: the symbol file, target
// remote, breakpoints, threads with names and the CPU each last ran on
// (core="N" in *stopped and -thread-info, as with gdbserver: core:N in
// stop replies, core= in qXfer:threads), the stack, finish, next, step,
// an expression, pause (-exec-interrupt) and a run to the end.
func TestIDESession(t *testing.T) {
	prog := gdbtest.Program(t, "clients")
	srv := serve(t, prog, "wait")
	mi := gdbtest.StartMI(t)
	for _, c := range []string{"-enable-pretty-printing", "-file-exec-and-symbols " + prog} {
		if r := mi.Cmd(c); r.Class != "done" {
			t.Fatalf("%s: %+v", c, r)
		}
	}
	if r := mi.Cmd("-target-select remote " + srv.Addr()); r.Class != "connected" {
		t.Fatalf("-target-select: %+v", r)
	}
	core := regexp.MustCompile(`core="(\d+)"`)
	stop := func(c string, wants ...string) string {
		t.Helper()
		if r := mi.Cmd(c); r.Class != "running" {
			t.Fatalf("%s: %+v", c, r)
		}
		s := mi.Stopped()
		for _, w := range wants {
			if !strings.Contains(s, w) {
				t.Errorf("%s: %s, want %s", c, s, w)
			}
		}
		return s
	}
	mi.Cmd("-break-insert -f main")
	if s := stop("-exec-continue", `reason="breakpoint-hit"`, `func="main"`); !core.MatchString(s) {
		t.Errorf("*stopped without core: %s", s)
	}
	mi.Cmd("-break-insert -f ready")
	stop("-exec-continue", `reason="breakpoint-hit"`, `func="ready"`)
	r := mi.Cmd("-thread-info")
	if n := len(core.FindAllString(r.Rest, -1)); n != 2 || !strings.Contains(r.Rest, `name="worker-1"`) {
		t.Errorf("-thread-info: %s, want 2 threads, worker-1 among them, each with core=\"N\"", r.Rest)
	}
	if r := mi.Cmd("-stack-list-frames"); !strings.Contains(r.Rest, `func="ready"`) || !strings.Contains(r.Rest, `func="main"`) {
		t.Errorf("-stack-list-frames: %s", r.Rest)
	}
	stop("-exec-finish", `reason="function-finished"`, `func="main"`)
	stop("-exec-next", `reason="end-stepping-range"`, `func="main"`)
	stop("-exec-step", `reason="end-stepping-range"`, `func="peek"`)
	if r := mi.Cmd("-data-evaluate-expression counter"); !strings.Contains(r.Rest, `value="1"`) {
		t.Errorf("counter after bump(1): %s", r.Rest)
	}
	mi.Cmd("-break-delete")
	if r := mi.Cmd("-exec-continue"); r.Class != "running" {
		t.Fatalf("-exec-continue: %+v", r)
	}
	// Pause, as the IDE's button does, while main waits in its loop.
	mi.Cmd("-exec-interrupt")
	if s := mi.Stopped(); !strings.Contains(s, `signal-name="SIGINT"`) || !core.MatchString(s) {
		t.Errorf("pause: %s", s)
	}
	mi.Cmd("-data-evaluate-expression waiting=0")
	stop("-exec-continue", `reason="exited-normally"`)
}

// TestQuickStart runs the README's quick start as it is written: the
// command that builds testdata/clients.c and serves it (at a free port,
// the program in a temporary directory), and the gdb line, which must
// stop at main with the program's symbols.
func TestQuickStart(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(gdbtest.Root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	if i := strings.Index(section, "## Quick start"); i >= 0 {
		section = section[i:]
	}
	m := regexp.MustCompile("(?m)^(gcc [^&\n]*) && go run \\./cmd/gdbserverx (:\\d+) (\\S+)\\s*$").FindStringSubmatch(section)
	g := regexp.MustCompile(`(?m)# (gdb( -ex '[^']*'| -ex \w+)+) (\S+)$`).FindStringSubmatch(section)
	if m == nil || g == nil {
		t.Fatalf("no build-and-serve command or gdb line in the README's quick start:\n%.1000s", section)
	}
	build, port, prog := m[1], m[2], m[3]
	local := filepath.Join(t.TempDir(), filepath.Base(prog))
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(build, prog, local))
	cmd.Dir = gdbtest.Root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "127.0.0.1:0", local)
	if g[3] != prog {
		t.Fatalf("the gdb line debugs %s, the server serves %s", g[3], prog)
	}
	cmds := []string{"file " + local}
	for _, ex := range regexp.MustCompile(`-ex ('([^']*)'|(\w+))`).FindAllStringSubmatch(g[1], -1) {
		c := ex[2] + ex[3]
		cmds = append(cmds, strings.Replace(c, "target remote "+port, "target remote "+srv.Addr(), 1))
	}
	out := gdbtest.Batch(t, cmds...)
	if !regexp.MustCompile(`Breakpoint 1, main \(argc=1, argv=0x[0-9a-f]+\) at .*clients\.c:\d+`).MatchString(out) {
		t.Errorf("the quick start's gdb session:\n%s\nwant it stopped at main, with symbols", out)
	}
}

// TestGDBPassesSignals: a signal gdb passes silently (`handle SIGUSR1
// nostop noprint pass`, which gdb sends in QPassSignals) reaches the
// program's handler without a stop: the server passes it during the run
// (`monitor stats` counts it), gdb makes no round trip for it.
func TestGDBPassesSignals(t *testing.T) {
	prog := gdbtest.Program(t, "signals")
	srv := serve(t, prog, "usr1")
	out := gdb(t, srv, "handle SIGUSR1 nostop noprint pass", "break printf", "continue", "monitor stats", "print handled")
	contains(t, out, `Breakpoint 1, .*printf`, `signals passed without a stop: 1\n`, `\$1 = 1`)
	if strings.Contains(out, "Program received signal SIGUSR1") {
		t.Errorf("gdb was told of SIGUSR1:\n%s", out)
	}
}
