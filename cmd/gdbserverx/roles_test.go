package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// Roles (issue 18, README "Security"): real gdbs on one program, one of
// them through a listener whose clients may do less.

// startWithSocket starts gdbserverx with args (options, then COMM and the
// program) and waits until it listens on its unix socket too.
func startWithSocket(t *testing.T, args ...string) *gdbtest.Proc {
	t.Helper()
	srv := gdbtest.StartServer(t, gdbtest.Server(t), args...)
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Listening on unix socket `), gdbtest.Timeout); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestObserverBesideDebugger: an IDE debugs the program (role debugger)
// while an observer connects through a unix socket. The observer reads
// memory, registers and threads; every change it tries (memory,
// registers, an inferior call, a signal, kill, monitor exit, monitor set
// remote-debug, writing a host file) is refused with a line saying which
// role forbids it; its watchpoint works; it leaves with detach. The
// debugger's session goes on undisturbed: its breakpoint, its values,
// no word of the observer.
func TestObserverBesideDebugger(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "observer.sock")
	events := filepath.Join(dir, "events.jsonl")
	srv := startWithSocket(t, "--role", "debugger", "--event-log", events, "--listen", "unix:"+sock+",role=observer", "127.0.0.1:0", gdbtest.Program(t, "shared"))

	dbg := ide(t, srv)
	if r := dbg.Cmd("-break-insert tick"); r.Class != "done" {
		t.Fatalf("break tick: %+v", r)
	}
	dbg.Cmd("-exec-continue")
	if stop := dbg.Stopped(); !strings.Contains(stop, `func="tick"`) {
		t.Fatalf("the debugger's stop: %s", stop)
	}
	before := console(t, dbg, "print counter5")

	local := filepath.Join(dir, "local.txt")
	os.WriteFile(local, []byte("x"), 0o644)
	out := gdbtest.Batch(t,
		"target extended-remote "+sock,
		"print counter5",
		"info threads",
		"info registers rip",
		"set var counter5 = 99",
		"set var $rax = 0x5eed",
		"print poked(3)",
		"signal SIGUSR1",
		"kill",
		"monitor exit",
		"monitor set remote-debug 1",
		"remote put "+local+" "+filepath.Join(dir, "put.txt"),
		"monitor clients",
		"print counter5",
		"detach",
	)
	refused := func(what, packet, needs string) string {
		return `gdbserverx: refused: an observer may not ` + regexp.QuoteMeta(what) + ` \(` + regexp.QuoteMeta(packet) + `; needs role ` + needs + `\)`
	}
	contains(t, out,
		`\$1 = \d+`,
		`\* 1 +Thread \d+\.\d+ "shared"`,
		`rip +0x[0-9a-f]+ `,
		`Cannot access memory at address 0x[0-9a-f]+`,
		`Could not write register "rax"; remote failure reply 'E\.`+refused("write the program's memory or registers", "P", "debugger")+`'`,
		refused("send signals to the program", "vCont", "debugger"),
		`Can't kill process`,
		refused("stop or reconfigure the server", "qRcmd", "owner")+`\n(.*\n)*Protocol error with Rcmd\n(.*\n)*`+refused("stop or reconfigure the server", "qRcmd", "owner"),
		`Remote I/O error: Permission denied`,
		// Told at the next monitor command, the refusals gdb gave no reason for.
		refused("write the program's memory or registers", "X", "debugger"),
		refused("kill the program", "vKill", "owner"),
		refused("write or remove host files", "vFile:open", "owner"),
		`#1 +127\.0\.0\.1:\d+ .* debugger\n#2 \(you\) +`+regexp.QuoteMeta(sock)+` .* observer`,
		`\[Inferior 1 \(process \d+\) detached\]`,
	)
	if _, err := os.Stat(filepath.Join(dir, "put.txt")); err == nil {
		t.Errorf("the observer's remote put wrote the file")
	}

	// The debugger's session: the same values, its breakpoint, and
	// nothing of the observer's.
	value := regexp.MustCompile(`^\$\d+ = `)
	if got := console(t, dbg, "print counter5"); value.ReplaceAllString(got, "") != value.ReplaceAllString(before, "") {
		t.Errorf("counter5 changed under the debugger: %q, then %q", before, got)
	}
	if got := console(t, dbg, "print quiet3 + poke"); !strings.Contains(got, "= 0") {
		t.Errorf("the observer's call of poked(3) ran: %q", got)
	}
	dbg.Cmd("-exec-continue")
	if stop := dbg.Stopped(); !strings.Contains(stop, `func="tick"`) {
		t.Errorf("the debugger's next stop: %s", stop)
	}

	// The observer watches, in hardware, with a watchpoint of its own:
	// its continue waits while the debugger holds the program, and only
	// it hears of the hit.
	obs := gdbtest.StartMI(t)
	if r := obs.Cmd("-target-select extended-remote " + sock); r.Class != "connected" {
		t.Fatalf("the observer's -target-select: %+v", r)
	}
	if r := obs.Cmd("-break-watch counter5"); r.Class != "done" {
		t.Fatalf("the observer's watch: %+v", r)
	}
	obs.Cmd("-exec-continue")
	dbg.Cmd("-break-delete")
	dbg.Cmd("-exec-continue")
	if stop := obs.Stopped(); !strings.Contains(stop, `reason="watchpoint-trigger"`) || !strings.Contains(stop, `exp="counter5"`) {
		t.Errorf("the observer's watchpoint: %s", stop)
	}
	obs.Cmd("-target-detach")
	dbg.Cmd("-exec-interrupt")
	dbg.Stopped()
	if all := dbg.Out.String(); strings.Contains(all, "refused") || strings.Contains(all, "watchpoint-trigger") {
		t.Errorf("the debugger heard of the observer:\n%s", all)
	}

	// --event-log has every refusal, with the role and the one needed.
	b, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for line := range strings.Lines(string(b)) {
		var r struct{ Refused, Role, Needs string }
		if json.Unmarshal([]byte(line), &r) == nil && r.Refused != "" && r.Role == "observer" {
			got[r.Refused+" needs "+r.Needs] = true
		}
	}
	for _, want := range []string{"X needs debugger", "P needs debugger", "vCont needs debugger", "vKill needs owner", "qRcmd needs owner", "vFile:open needs owner"} {
		if !got[want] {
			t.Errorf("--event-log lacks the refusal %q:\n%s", want, b)
		}
	}
}

// TestDebuggerCannotKillOwnersProgram: the owner (the main COMM) debugs
// its program; a debugger from another listener (--listen's default
// role) writes memory but cannot kill the program or stop the server,
// and when it quits the program is the owner's as before.
func TestDebuggerCannotKillOwnersProgram(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "debugger.sock")
	srv := startWithSocket(t, "--listen", "unix:"+sock, "127.0.0.1:0", gdbtest.Program(t, "basic"))
	owner := ide(t, srv)
	owner.Cmd("-break-insert square")
	owner.Cmd("-exec-continue")
	if stop := owner.Stopped(); !strings.Contains(stop, `func="square"`) {
		t.Fatalf("the owner's stop: %s", stop)
	}
	out := gdbtest.Batch(t,
		"target remote "+sock,
		"set var origin.x = 9",
		"kill",
		"monitor exit",
		"info registers rip",
		"monitor clients",
	)
	contains(t, out,
		`Can't kill process`,
		`gdbserverx: refused: a debugger may not stop or reconfigure the server \(qRcmd; needs role owner\)`,
		`rip +0x[0-9a-f]+ +0x[0-9a-f]+ <square\+\d+>`,
		`gdbserverx: refused: a debugger may not kill the program \(vKill; needs role owner\)`,
		`#1 +127\.0\.0\.1:\d+ .* owner\n#2 \(you\) .* debugger`,
	)
	if strings.Contains(out, "killed") || strings.Contains(out, "Cannot access memory") {
		t.Errorf("the debugger:\n%s", out)
	}
	owner.Cmd("-exec-continue")
	if stop := owner.Stopped(); !strings.Contains(stop, `reason="exited-normally"`) {
		t.Errorf("the owner's program did not run to its end: %s", stop)
	}
	if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile(`^counter=25 origin=9,2$`), gdbtest.Timeout); err != nil {
		t.Errorf("the debugger's write: %v", err)
	}
}

// TestUnixSocketPeer: a unix socket is the server's user's alone: its
// file is 0600 (another user cannot connect at all), and with a wider
// --socket-mode a peer running as another user is refused, told why, and
// logged (SO_PEERCRED), unless --allow-uid names it. The other user's
// gdb runs under setpriv(1).
func TestUnixSocketPeer(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run gdb as user 65534 (setpriv --reuid)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv(1) is not installed")
	}
	dir, err := os.MkdirTemp("", "gdbserverx-sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // the other user may reach the socket's file
	prog := gdbtest.Program(t, "basic")
	asNobody := func(sock string) string {
		ctx, cancel := context.WithTimeout(context.Background(), gdbtest.Timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"gdb", "-batch", "-nx", "-q", "-iex", "set confirm off", "-iex", "set debuginfod enabled off",
			"-ex", "target remote "+sock, "-ex", "print $pc", "-ex", "detach")
		cmd.Dir = dir
		b, _ := cmd.CombinedOutput()
		return string(b)
	}
	for i, tc := range []struct {
		args []string
		want []string
		log  string
	}{
		{nil, []string{`Permission denied`}, ""},
		{[]string{"--socket-mode", "0666"}, []string{`Remote failure reply: E\.gdbserverx: refused: user 65534 may not connect to this socket \(allowed users: 0; --allow-uid\)`},
			`^Refused a connection from .*: process \d+ runs as user 65534, which may not connect \(allowed users: 0; --allow-uid\)$`},
		{[]string{"--socket-mode", "0666", "--allow-uid", "0,65534"}, []string{`\$1 = \(void \(\*\)\(\)\) 0x[0-9a-f]+`, `\[Inferior 1 \(process \d+\) detached\]`}, ""},
	} {
		sock := filepath.Join(dir, strconv.Itoa(i)+".sock")
		args := append(append([]string{}, tc.args...), "unix:"+sock, prog)
		srv := gdbtest.Start(t, gdbtest.Server(t), args...)
		if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Listening on unix socket `), gdbtest.Timeout); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if want := os.FileMode(0o600); tc.args != nil {
			want = 0o666
			if st.Mode().Perm() != want {
				t.Errorf("%v: socket mode %v, want %v", tc.args, st.Mode().Perm(), want)
			}
		} else if st.Mode().Perm() != want {
			t.Errorf("default socket mode %v, want %v", st.Mode().Perm(), want)
		}
		out := asNobody(sock)
		contains(t, out, tc.want...)
		if tc.log != "" {
			if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(tc.log), gdbtest.Timeout); err != nil {
				t.Errorf("%v: %v", tc.args, err)
			}
		}
	}
}

// TestPublicAddressWarning: a TCP listener not on loopback says on
// stderr that whoever reaches it controls the program (what an observer
// listener's reachers can do is less); the loopback default says nothing.
func TestPublicAddressWarning(t *testing.T) {
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--listen", "0.0.0.0:0,role=observer", "0.0.0.0:0", gdbtest.Program(t, "basic"))
	for _, want := range []string{
		`^Warning: 0\.0\.0\.0:\d+ is not a loopback address: anyone who can reach it can control the program, start others and stop the server \(role owner; README, "Security"\)$`,
		`^Warning: 0\.0\.0\.0:\d+ is not a loopback address: anyone who can reach it can read the program's memory and registers \(role observer; README, "Security"\)$`,
	} {
		if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(want), gdbtest.Timeout); err != nil {
			t.Error(err)
		}
	}

	srv = serve(t, gdbtest.Program(t, "basic"))
	gdb(t, srv, "kill")
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(srv.Stderr.String(), "Warning") {
		t.Errorf("loopback listener:\n%s", srv.Stderr)
	}
}
