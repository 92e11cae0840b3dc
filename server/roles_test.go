package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// TestEveryRequestClassified: every request type rsp can produce (its
// sealed list, rsp/sealed.go) has a rule in requestRules, so that a new
// packet cannot be served before someone decides which roles may send it.
func TestEveryRequestClassified(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../rsp/sealed.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sealed []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "isRequest" || fn.Recv == nil {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			t.Fatalf("isRequest on a non-pointer receiver: %v", fn.Recv.List[0].Type)
		}
		sealed = append(sealed, star.X.(*ast.Ident).Name)
	}
	if len(sealed) < 50 {
		t.Fatalf("found only %d request types in rsp/sealed.go", len(sealed))
	}
	var classified []string
	for typ := range requestRules {
		classified = append(classified, typ.Elem().Name())
	}
	for _, name := range sealed {
		if !slices.Contains(classified, name) {
			t.Errorf("rsp.%s has no rule in requestRules (roles.go): decide which roles may send it", name)
		}
	}
	for _, name := range classified {
		if !slices.Contains(sealed, name) {
			t.Errorf("requestRules classifies rsp.%s, which rsp/sealed.go does not list", name)
		}
	}
	t.Logf("%d request types classified", len(sealed))
}

// TestEveryMonitorCommandClassified: each monitor command is classified,
// and monitorRights names only commands that exist.
func TestEveryMonitorCommandClassified(t *testing.T) {
	for name := range monitorRights {
		if cmd, _ := findMonitor(strings.Fields(name)); cmd == nil || cmd.name != name {
			t.Errorf("monitorRights names %q, which is no monitor command", name)
		}
	}
	for _, m := range monitorCommands {
		if _, ok := monitorRights[m.name]; !ok {
			t.Errorf("monitor %s has no entry in monitorRights (roles.go): decide which roles may run it", m.name)
		}
	}
}

// roleClient adds a client of a role to a harness.
func (h *harness) roleClient(r Role) *client {
	c := h.client()
	c.role = r
	return c
}

// TestRoles: what each role may send, one packet at a time on a fresh
// server, and the reply a refused packet gets (README, "Security").
func TestRoles(t *testing.T) {
	hexCmd := func(s string) string { return "qRcmd," + fmt.Sprintf("%x", s) }
	dir := t.TempDir()
	file := fmt.Sprintf("%x", dir+"/x")
	const (
		all      = 1<<RoleOwner | 1<<RoleDebugger | 1<<RoleObserver
		debugger = 1<<RoleOwner | 1<<RoleDebugger
		owner    = 1 << RoleOwner
	)
	refusedWith := func(r Role, packet string) string {
		for _, tc := range []struct{ prefix, reply string }{{"G", "E."}, {"P", "E."}, {"vFile:", "F-1,d"}} {
			if strings.HasPrefix(packet, tc.prefix) {
				return tc.reply
			}
		}
		return "E0d"
	}
	for _, tc := range []struct {
		packet string
		may    int // the roles that may
	}{
		{"m1000,4", all},
		{"g", all},
		{"p10", all},
		{"qfThreadInfo", all},
		{"qXfer:features:read:target.xml:0,100", all},
		{"Z0,1000,1", all},
		{"Z2,2000,4", all},
		{"vCont;c", all},
		{"c", all},
		{"vCont;s:p64.64", all},
		{"vCtrlC", all},
		{"QPassSignals:e", all},
		{"QSetWorkingDir:2f", all},
		{hexCmd("clients"), all},
		{hexCmd("priority 5"), all},
		{"D", all},
		{"M1000,1:00", debugger},
		{"X1000,1:a", debugger},
		{"G" + strings.Repeat("00", 24), debugger},
		{"P10=0000000000000000", debugger},
		{"vCont;C0a", debugger},
		{"vCont;S0a:p64.64;c", debugger},
		{"C0a", debugger},
		{"c1000", debugger},
		{"qXfer:siginfo:write::0:", debugger},
		{"k", owner},
		{"vKill;64", owner},
		{"vRun;", owner},
		{"vAttach;64", owner},
		{hexCmd("exit"), owner},
		{hexCmd("set debug 0"), owner},
		{hexCmd("set remote-debug 0"), owner},
		{"vFile:open:" + file + ",0,0", all},
		{"vFile:open:" + file + ",601,1a4", owner},
		{"vFile:pwrite:1,0,x", owner},
		{"vFile:unlink:" + file, owner},
	} {
		for _, r := range []Role{RoleOwner, RoleDebugger, RoleObserver} {
			h := newHarness(t)
			h.s.cfg.Backend = fakeBackend{}
			h.s.cfg.Multi = true
			h.s.cfg.VFileRoots = []string{dir}
			c := h.roleClient(r)
			h.send(c, tc.packet)
			got := h.replies(c)
			want := refusedWith(r, tc.packet)
			refused := len(got) > 0 && strings.HasPrefix(got[len(got)-1], want)
			if tc.packet == hexCmd("set debug 0") && r == RoleOwner {
				refused = false // E0d is no answer of set debug
			}
			if allowed := tc.may&(1<<r) != 0; refused == allowed {
				t.Errorf("%s from %s: replies %q; want it %s", tc.packet, r, got, map[bool]string{true: "served", false: "refused with " + want}[allowed])
			}
		}
	}
}

// TestRefusalIsTold: the person behind a refused client learns why where
// gdb shows it: as console output before the reply to a resume or a
// monitor command, in the text of the reply to G and P, and otherwise as
// a notice at the next resume (once, however often gdb asked); and the
// refusal is in --event-log and monitor events.
func TestRefusalIsTold(t *testing.T) {
	h := newHarness(t)
	var log bytes.Buffer
	h.s.events.w = &log
	c := h.roleClient(RoleObserver)
	want := "gdbserverx: refused: an observer may not write the program's memory or registers (X; needs role debugger)"

	h.send(c, "X1000,0:")
	h.send(c, "X1000,1:a")
	if got := h.replies(c); !slices.Equal(got, []string{"E0d", "E0d"}) {
		t.Errorf("X: %q", got)
	}
	h.send(c, "P10=0000000000000000")
	if got := h.replies(c); len(got) != 1 || got[0] != "E.gdbserverx: refused: an observer may not write the program's memory or registers (P; needs role debugger)" {
		t.Errorf("P: %q", got)
	}
	h.send(c, "vCont;C0a")
	got := h.replies(c)
	if len(got) != 3 || got[2] != "E0d" {
		t.Fatalf("vCont;C0a: %q", got)
	}
	for i, text := range []string{want + "\n", "gdbserverx: refused: an observer may not send signals to the program (vCont; needs role debugger)\n"} {
		if out, _ := rsp.DecodeConsoleOutput([]byte(got[i])); string(out) != text {
			t.Errorf("vCont;C0a: output %d is %q, want %q", i, out, text)
		}
	}
	if h.f.resumes != nil {
		t.Errorf("the refused resume ran the program: %v", h.f.resumes)
	}

	var recs []refusalRecord
	for line := range strings.Lines(log.String()) {
		var r refusalRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("event log line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 4 || recs[0].Refused != "X" || recs[0].Role != "observer" || recs[0].Needs != "debugger" || recs[0].Client != c.id || recs[0].Text != want || recs[3].Refused != "vCont" {
		t.Errorf("event log:\n%s", log.String())
	}
	h.send(c, "qRcmd,"+fmt.Sprintf("%x", "events"))
	events := h.replies(c)
	if len(events) != 2 || events[1] != "OK" {
		t.Fatalf("monitor events: %q", events)
	}
	if out, _ := rsp.DecodeConsoleOutput([]byte(events[0])); strings.Count(string(out), "gdbserverx: refused:") != 4 {
		t.Errorf("monitor events:\n%s", out)
	}
}

// TestObserverStartsNoHeldThread: an observer's continue does not start
// a thread that a debugger's resume leaves stopped (gdb's `set
// scheduler-locking step`: vCont;s of one thread); it may step a thread
// the debugger runs; alone, it runs the program.
func TestObserverStartsNoHeldThread(t *testing.T) {
	h := newHarness(t)
	obs := h.roleClient(RoleObserver)
	dbg := h.roleClient(RoleDebugger)
	h.send(obs, "vCont;c")
	h.send(dbg, "vCont;s:p64.64")
	if len(h.f.resumes) != 1 {
		t.Fatalf("resumes: %v", h.f.resumes)
	}
	if want := []target.Action{{Tid: 100, Kind: target.Step}}; !slices.Equal(h.f.resumes[0], want) {
		t.Errorf("observer continue beside a debugger's step of thread 100: resumed %v, want %v", h.f.resumes[0], want)
	}

	h = newHarness(t)
	obs = h.roleClient(RoleObserver)
	dbg = h.roleClient(RoleDebugger)
	h.send(obs, "vCont;s:p64.65;c")
	h.send(dbg, "vCont;c")
	if want := []target.Action{{Tid: 100, Kind: target.Continue}, {Tid: 101, Kind: target.Step}}; len(h.f.resumes) != 1 || !slices.Equal(h.f.resumes[0], want) {
		t.Errorf("observer step beside a debugger's continue: resumed %v, want %v", h.f.resumes, want)
	}

	h = newHarness(t)
	obs = h.roleClient(RoleObserver)
	h.send(obs, "vCont;c")
	if want := []target.Action{{Tid: 100, Kind: target.Continue}, {Tid: 101, Kind: target.Continue}}; len(h.f.resumes) != 1 || !slices.Equal(h.f.resumes[0], want) {
		t.Errorf("observer alone: resumed %v, want %v", h.f.resumes, want)
	}
}

// TestLeave: the detach of a client that may not let the program go
// leaves it to the server: while another client debugs it, nothing else
// happens; when nobody does, it runs on, free of every point, and a stop
// for a signal does not hold it while only the client that left is
// connected.
func TestLeave(t *testing.T) {
	h := newHarness(t)
	dbg := h.roleClient(RoleDebugger)
	own := h.roleClient(RoleOwner)
	h.send(dbg, "Z0,1000,1")
	h.send(dbg, "D")
	if got := h.replies(dbg); !slices.Equal(got, []string{"OK", "OK"}) || dbg.state != clientIdle {
		t.Errorf("debugger's D beside an owner: %q, state %v", got, dbg.state)
	}
	if h.s.procs.main() == nil || h.f.resumes != nil {
		t.Errorf("the debugger's D let the program go (process %v, resumes %v)", h.s.procs.main(), h.f.resumes)
	}
	h.send(own, "vCont;c")
	if len(h.f.resumes) != 1 || len(h.f.breaks) != 0 {
		t.Errorf("after the leave, the owner's continue: resumes %v, breakpoints %v", h.f.resumes, h.f.breaks)
	}

	h = newHarness(t)
	obs := h.roleClient(RoleObserver)
	h.send(obs, "Z0,1000,1")
	h.send(obs, "D")
	if h.s.procs.main() == nil || !h.s.procs.main().running || len(h.f.resumes) != 1 || len(h.f.breaks) != 0 {
		t.Fatalf("an observer's D alone: process %v, resumes %v, breakpoints %v", h.s.procs.main(), h.f.resumes, h.f.breaks)
	}
	h.event(stopped(target.ThreadStop{Tid: 100, Reason: target.StopSignal, Signal: target.SIGSEGV}))
	if len(h.f.resumes) != 2 || h.f.resumes[1][1] != (target.Action{Tid: 100, Kind: target.Continue, Signal: target.SIGSEGV}) {
		t.Errorf("a signal while only the observer that left is connected: resumes %v", h.f.resumes)
	}
}

// TestQueryAttachedByRole: a client that may not kill the program is
// told the process was attached (qAttached 1), so that gdb detaches
// rather than kills when its user quits.
func TestQueryAttachedByRole(t *testing.T) {
	for _, tc := range []struct {
		role Role
		want string
	}{{RoleOwner, "0"}, {RoleDebugger, "1"}, {RoleObserver, "1"}} {
		h := newHarness(t)
		h.s.cfg.Listeners[0].Role = tc.role
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		h.s.connect(pipeConn{a}, &h.s.cfg.Listeners[0])
		c := h.s.clients[0]
		h.send(c, "qAttached")
		if got := h.replies(c); len(got) != 1 || got[0] != tc.want {
			t.Errorf("qAttached of the first %s: %q, want %s", tc.role, got, tc.want)
		}
	}
}

// TestAdmitPeer: a unix socket's peer must run as an allowed user
// (SO_PEERCRED); one that does not is told why, in a reply gdb prints,
// and the connection closed. The real test, with a peer of another
// user, is cmd/gdbserverx's TestUnixSocketPeer.
func TestAdmitPeer(t *testing.T) {
	sock := t.TempDir() + "/s"
	l, err := comm.Listen(comm.Spec{Kind: comm.Unix, Addr: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, err := os.Stat(sock)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("socket file: %v, %v; want mode 0600", st.Mode(), err)
	}
	for _, tc := range []struct {
		allow []int
		admit bool
	}{{nil, true}, {[]int{os.Getuid()}, true}, {[]int{os.Getuid() + 1}, false}} {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		server, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		cred, ok := comm.PeerCred(server)
		if !ok || cred.UID != os.Getuid() || cred.PID != os.Getpid() {
			t.Errorf("PeerCred = %+v, %v", cred, ok)
		}
		var log bytes.Buffer
		if got := admit(server, &ListenerConfig{AllowUIDs: tc.allow}, &logger{w: io.Discard}, &eventLog{w: &log}); got != tc.admit {
			t.Errorf("allowed users %v: admitted %v", tc.allow, got)
		}
		if tc.admit {
			server.Close()
			continue
		}
		// What gdb would read: the acknowledgment of its packet, then
		// the reply, then the end of the connection.
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(rsp.AppendFrame(nil, []byte("qSupported"))); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(conn)
		want := fmt.Sprintf("gdbserverx: refused: user %d may not connect to this socket (allowed users: %d; --allow-uid)", os.Getuid(), os.Getuid()+1)
		if err != nil || string(got) != "+"+string(rsp.AppendFrame(nil, []byte("E."+want))) {
			t.Errorf("the refused peer read %q (%v), want the reply %q", got, err, want)
		}
		if !strings.Contains(log.String(), `"refused":"connection"`) {
			t.Errorf("event log: %s", log.String())
		}
	}
}

// TestREADMERoles: the README's tables of roles and of refusals are the
// ones roles.go has; -update rewrites them (go test ./server -run
// TestREADME -update).
func TestREADMERoles(t *testing.T) {
	const path = "../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	yes := map[bool]string{true: "yes", false: "no"}
	var roles strings.Builder
	roles.WriteString("| a client may | packets | observer | debugger | owner |\n|---|---|:-:|:-:|:-:|\n")
	for r := range numRights {
		var names []string
		for typ, rule := range requestRules {
			if rule.right == r && rule.refine == nil {
				names = append(names, packetNames(typ))
			}
		}
		for name, mr := range monitorRights {
			if mr == r {
				names = append(names, "`monitor "+name+"`")
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
		if also := rightInfos[r].also; also != "" {
			names = append(names, also)
		}
		fmt.Fprintf(&roles, "| %s | %s | %s | %s | %s |\n", rightInfos[r].may, strings.Join(names, ", "),
			yes[RoleObserver.may(r)], yes[RoleDebugger.may(r)], yes[RoleOwner.may(r)])
	}
	var told strings.Builder
	told.WriteString("| packets | the reply | what gdb shows |\n|---|---|---|\n")
	for how, tl := range tellings {
		var names []string
		for typ, rule := range requestRules {
			refusable := !RoleObserver.may(rule.right) || rule.refine != nil
			if rule.tell == telling(how) && refusable && typ != typeOf[*rsp.Detach]() {
				names = append(names, packetNames(typ))
			}
		}
		slices.Sort(names)
		fmt.Fprintf(&told, "| %s | %s | %s |\n", strings.Join(names, ", "), tl.reply, tl.shows)
	}
	doc := string(b)
	want := doc
	for _, sec := range []struct{ name, body string }{{"roles", roles.String()}, {"refusals", told.String()}} {
		start := strings.Index(want, "<!-- "+sec.name+":")
		end := strings.Index(want, "<!-- end "+sec.name+" -->")
		if start < 0 || end < start {
			t.Fatalf("README.md has no %s section markers", sec.name)
		}
		startEnd := start + strings.Index(want[start:], "-->") + len("-->\n")
		want = want[:startEnd] + sec.body + want[end:]
	}
	if want == doc {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's tables of roles are stale; run: go test ./server -run TestREADME -update")
}
