package main

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// TestLeaveAttached: a process the server attached to (--attach, or gdb's
// `attach` through --multi), with four hardware watchpoints, a fifth
// emulated in software and a breakpoint, runs on whole after the server
// leaves by SIGTERM, SIGINT, SIGHUP or `monitor exit`: no debug register
// left armed, no breakpoint instruction left, no page protection left
// (the program writes every watched variable and calls the function once
// untraced: any of them left would kill it). The server says why it left
// and exits 128+signal after a signal, 0 after monitor exit (issue 13: it
// exited 0, silently).
func TestLeaveAttached(t *testing.T) {
	prog := gdbtest.Program(t, "leave")
	for _, tc := range []struct {
		name   string
		sig    syscall.Signal // 0: monitor exit
		multi  bool           // attach with gdb's attach (vAttach), not --attach
		reason string
	}{
		{"SIGTERM", syscall.SIGTERM, false, `received SIGTERM`},
		{"SIGINT", syscall.SIGINT, true, `received SIGINT`},
		{"SIGHUP", syscall.SIGHUP, false, `received SIGHUP`},
		{"monitor exit", 0, true, `monitor exit from client #1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := gdbtest.Start(t, prog)
			_, m, err := p.Stdout.Wait(0, regexp.MustCompile(`^pid (\d+) ready$`), gdbtest.Timeout)
			if err != nil {
				t.Fatal(err)
			}
			pid := m[1]
			var srv *gdbtest.Proc
			mi := gdbtest.StartMI(t)
			if tc.multi {
				srv = gdbtest.StartServer(t, gdbtest.Server(t), "--multi", "127.0.0.1:0")
				if r := mi.Cmd("-target-select extended-remote " + srv.Addr()); r.Class != "connected" {
					t.Fatalf("-target-select: %+v", r)
				}
				mi.Cmd("-file-exec-and-symbols " + prog)
				if r := mi.Cmd("-target-attach " + pid); r.Class == "error" {
					t.Fatalf("attach: %+v", r)
				}
				mi.Stopped()
			} else {
				srv = gdbtest.StartServer(t, gdbtest.Server(t), "--attach", "127.0.0.1:0", pid)
				if r := mi.Cmd("-target-select remote " + srv.Addr()); r.Class != "connected" {
					t.Fatalf("-target-select: %+v", r)
				}
			}
			for i := range 5 {
				console(t, mi, fmt.Sprintf("watch w[%d]", i))
			}
			console(t, mi, "break tick")
			mi.Cmd("-exec-continue")
			if _, _, err := p.Stdout.Wait(0, regexp.MustCompile(`^traced$`), gdbtest.Timeout); err != nil {
				t.Fatal(err)
			}
			// Everything is in place while the program runs: four
			// watchpoints in hardware, the fifth emulated.
			mi.Cmd("-exec-interrupt")
			mi.Stopped()
			slots := console(t, mi, "monitor slots")
			if n, e := strings.Count(slots, " installed "), strings.Count(slots, " emulated "); n != 4 || e != 1 {
				t.Fatalf("monitor slots: %d installed, %d emulated, want 4 and 1:\n%s", n, e, slots)
			}
			if tc.sig != 0 {
				mi.Cmd("-exec-continue")
				if err := srv.Cmd.Process.Signal(tc.sig); err != nil {
					t.Fatal(err)
				}
			} else {
				// gdb has removed its points from its view; the server
				// still has them in the program until the next resume.
				console(t, mi, "monitor exit")
			}
			st, err := srv.WaitExit(gdbtest.Timeout)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if tc.sig != 0 {
				want = 128 + int(tc.sig)
			}
			if st.ExitCode() != want {
				t.Errorf("server exit status %d, want %d (%v)", st.ExitCode(), want, st)
			}
			<-srv.Stderr.Done()
			log := srv.Stderr.String()
			for _, re := range []string{`(?m)^Exiting \(` + tc.reason + `\)$`, `(?m)^Detached from process ` + pid + `; it runs on$`} {
				if !regexp.MustCompile(re).MatchString(log) {
					t.Errorf("server stderr lacks %q:\n%s", re, log)
				}
			}
			// The program runs on, untraced, touches what was watched
			// and calls what had a breakpoint, and ends well.
			if _, _, err := p.Stdout.Wait(0, regexp.MustCompile(`^free$`), gdbtest.Timeout); err != nil {
				t.Error(err)
			}
			pst, err := p.WaitExit(gdbtest.Timeout)
			if err != nil {
				t.Fatal(err)
			}
			if !pst.Exited() || pst.ExitCode() != 0 {
				t.Errorf("the program after the server left: %v, want exit status 0", pst)
			}
		})
	}
}

// TestLeaveKillsStarted: a program the server started is killed when the
// server leaves by a signal, as gdbserver does; the server says so and
// exits 128+signal.
func TestLeaveKillsStarted(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "spin"))
	pid := programPid(t, srv)
	mi := ide(t, srv)
	console(t, mi, "watch spins")
	mi.Cmd("-exec-continue")
	mi.Stopped() // the watchpoint
	mi.Cmd("-exec-continue")
	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := srv.WaitExit(gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("server exit status %d, want %d", st.ExitCode(), 128+int(syscall.SIGTERM))
	}
	if err := gdbtest.WaitGone(pid, gdbtest.Timeout); err != nil {
		t.Errorf("the program outlived its server: %v", err)
	}
	<-srv.Stderr.Done()
	for _, re := range []string{`(?m)^Exiting \(received SIGTERM\)$`, fmt.Sprintf(`(?m)^Killed process %d$`, pid)} {
		if !regexp.MustCompile(re).MatchString(srv.Stderr.String()) {
			t.Errorf("server stderr lacks %q:\n%s", re, srv.Stderr)
		}
	}
}
