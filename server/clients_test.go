package server

import (
	"reflect"
	"strings"
	"testing"

	"gdbserverx/target"
)

// passingProcess is the fake target with the capability of passing
// signals: it records each set it is given.
type passingProcess struct {
	*fakeProcess
	sets [][]target.Signal
}

func (p *passingProcess) PassSignals(sigs []target.Signal) error {
	p.sets = append(p.sets, append([]target.Signal(nil), sigs...))
	return nil
}

// passingHarness is newHarness over a target that passes signals, with
// the server's own list.
func passingHarness(t *testing.T, server ...target.Signal) (*harness, *passingProcess) {
	h := newHarness(t)
	pp := &passingProcess{fakeProcess: h.f}
	h.s.setProc(newProcess(pp, fakeBackend{}, h.s.log, false, "prog"))
	h.s.procs.main().threads = []target.Tid{100, 101}
	h.s.procs.main().lastTid = 100
	h.s.cfg.PassSignals = server
	return h, pp
}

const sigURG, sigUSR1 = target.Signal(23), target.Signal(10)

// TestPassSignalsServerList: the server's list (--pass-signals) goes to
// the target before the program runs. A signal of the list that stops a
// thread anyway (in a step, or while the world stopped for another
// reason) is told to nobody and delivered when that thread next
// continues, not when it steps.
func TestPassSignalsServerList(t *testing.T) {
	h, pp := passingHarness(t, sigURG)
	a := h.client()
	h.send(a, "vCont;s:p64.64;c")
	if len(pp.sets) != 1 || !reflect.DeepEqual(pp.sets[0], []target.Signal{sigURG}) {
		t.Fatalf("sets given to the target: %v, want [[23]]", pp.sets)
	}
	// Thread 100 steps and receives SIGURG on the way: held.
	h.event(stopped(target.ThreadStop{Tid: 100, Reason: target.StopSignal, Signal: sigURG}))
	if got := h.replies(a); len(got) != 0 {
		t.Fatalf("told %q, want nothing: SIGURG is passed", got)
	}
	last := h.f.resumes[len(h.f.resumes)-1]
	for _, act := range last {
		if act.Tid == 100 && (act.Kind != target.Step || act.Signal != 0) {
			t.Errorf("resume %v: thread 100 must step again, without the signal", last)
		}
	}
	// Its step completes; then it continues, with the held SIGURG.
	dr6 := uint64(0x4000) // DR6.BS
	h.event(stopped(target.ThreadStop{Tid: 100, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: dr6}))
	if got := h.replies(a); len(got) != 1 || !strings.HasPrefix(got[0], "T05") {
		t.Fatalf("after the step: %q, want its stop", got)
	}
	h.send(a, "vCont;c")
	last = h.f.resumes[len(h.f.resumes)-1]
	want := target.Action{Tid: 100, Kind: target.Continue, Signal: sigURG}
	found := false
	for _, act := range last {
		found = found || act == want
	}
	if !found {
		t.Errorf("resume %v, want %v among its actions", last, want)
	}
	if len(pp.sets) != 1 {
		t.Errorf("the set was given again unchanged: %v", pp.sets)
	}
}

// TestPassSignalsClients: QPassSignals passes a signal without a stop
// only when every client debugging the program passes it (GDB numbers:
// SIGUSR1 is 0x1e); otherwise every client is told, as before.
func TestPassSignalsClients(t *testing.T) {
	h, pp := passingHarness(t)
	a, b := h.client(), h.client()
	h.send(a, "QPassSignals:1e;")
	h.replies(a)
	h.send(a, "vCont;c")
	h.send(b, "vCont;c")
	if len(pp.sets) != 0 {
		t.Fatalf("sets %v, want none (b does not pass SIGUSR1)", pp.sets)
	}
	h.event(stopped(target.ThreadStop{Tid: 101, Reason: target.StopSignal, Signal: sigUSR1}))
	if ra, rb := h.replies(a), h.replies(b); len(ra) != 1 || len(rb) != 1 || !strings.HasPrefix(ra[0], "T1e") {
		t.Fatalf("told a %q, b %q: want both told SIGUSR1", ra, rb)
	}
	h.send(b, "QPassSignals:1e;")
	h.replies(b)
	h.send(a, "vCont;C1e:p64.65;c")
	h.send(b, "vCont;C1e:p64.65;c")
	if len(pp.sets) != 1 || !reflect.DeepEqual(pp.sets[0], []target.Signal{sigUSR1}) {
		t.Fatalf("sets %v, want [[10]] once both pass it", pp.sets)
	}
}

// TestResumeOfExitedThread: a client that resumes only threads that have
// exited since its stop gets N when it reads N (no-resumed+), E03
// otherwise, and holds the program again; a stop of a thread that has
// exited is told to nobody.
func TestResumeOfExitedThread(t *testing.T) {
	h := newHarness(t)
	a, b := h.client(), h.client()
	a.noResumed = true
	h.send(a, "vCont;s:p64.66")
	h.send(b, "vCont;s:p64.66")
	ra, rb := h.replies(a), h.replies(b)
	if len(ra) != 1 || ra[0] != "N" || len(rb) != 1 || rb[0] != "E03" {
		t.Fatalf("a %q, b %q: want N and E03", ra, rb)
	}
	if a.state != clientStopped || b.state != clientStopped {
		t.Fatalf("states %v, %v: want both stopped", a.state, b.state)
	}
	// 101 hits a breakpoint and exits before it is told.
	h.send(a, "Z0,1000,1")
	h.replies(a)
	h.send(a, "vCont;c")
	h.send(b, "vCont;c")
	n := len(h.f.resumes)
	ev := stopped(target.ThreadStop{Tid: 101, Reason: target.StopBreakpoint, Signal: target.SIGTRAP, PC: 0x1000})
	ev.Threads = []target.Tid{100}
	h.event(ev)
	if ra := h.replies(a); len(ra) != 0 {
		t.Errorf("told %q of the breakpoint of a thread that has exited", ra)
	}
	if len(h.f.resumes) != n+1 {
		t.Errorf("the program was not resumed after the stop nobody is told")
	}
}

func TestLLDBLibraries(t *testing.T) {
	for in, want := range map[string]string{
		`<library-list-svr4 version="1.0" main-lm="0x7ffff7ffe2e0"><library name="/lib/libc.so.6" lm="0x1"/></library-list-svr4>`: `<library-list-svr4 version="1.0"><library name="/lib/libc.so.6" lm="0x1"/></library-list-svr4>`,
		`<library-list-svr4 version="1.0"/>`: `<library-list-svr4 version="1.0"/>`,
		`<library-list-svr4 main-lm="0x1`:    `<library-list-svr4 main-lm="0x1`,
	} {
		if got := string(lldbLibraries([]byte(in))); got != want {
			t.Errorf("lldbLibraries(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestSignalStormHint: a thread that stops for the same signal
// stormStops times in a row, each passed back by the client, gets the
// server to say, once, how to pass it without a stop.
func TestSignalStormHint(t *testing.T) {
	h := newHarness(t)
	var log strings.Builder
	h.s.log.w = &log
	a := h.client()
	for i := 0; i < stormStops+10; i++ {
		h.send(a, "vCont;C10:p64.65;c")
		h.event(stopped(target.ThreadStop{Tid: 101, Reason: target.StopSignal, Signal: sigURG}))
		h.replies(a)
	}
	hint := "Thread 101 stopped for SIGURG 1000 times in a row"
	if n := strings.Count(log.String(), hint); n != 1 || !strings.Contains(log.String(), "--pass-signals SIGURG") {
		t.Errorf("log:\n%s\nwant the hint %q once, with --pass-signals SIGURG", log.String(), hint)
	}
}

// TestParseSignals: --pass-signals takes names with or without SIG, and
// numbers; the debugger's own signals are refused.
func TestParseSignals(t *testing.T) {
	got, err := ParseSignals("SIGURG, alrm,10")
	if err != nil || !reflect.DeepEqual(got, []target.Signal{10, 14, 23}) {
		t.Errorf("ParseSignals = %v, %v", got, err)
	}
	for _, bad := range []string{"SIGFOO", "SIGTRAP", "stop", "9", "0", "65"} {
		if _, err := ParseSignals(bad); err == nil {
			t.Errorf("ParseSignals(%q): no error", bad)
		}
	}
}

// TestLLDBDialect: a client that sends QListThreadsInStopReply is told
// every thread and its pc, and lldb's reason, in its stop replies, and
// qThreadStopInfo gives the stop again; a gdb client of the same stop
// gets none of lldb's keys.
func TestLLDBDialect(t *testing.T) {
	h := newHarness(t)
	a, b := h.client(), h.client()
	h.send(a, "QListThreadsInStopReply")
	if got := h.replies(a); len(got) != 1 || got[0] != "OK" {
		t.Fatalf("QListThreadsInStopReply: %q", got)
	}
	h.send(a, "vCont;c")
	h.send(b, "vCont;c")
	h.event(stopped(target.ThreadStop{Tid: 101, Reason: target.StopSignal, Signal: sigUSR1}))
	ra, rb := h.replies(a), h.replies(b)
	if len(ra) != 1 || !strings.Contains(ra[0], "threads:64,65;thread-pcs:0,0;") || !strings.HasSuffix(ra[0], "reason:signal;") {
		t.Errorf("lldb's client told %q, want the threads, their pcs and reason:signal", ra)
	}
	if len(rb) != 1 || strings.Contains(rb[0], "threads:") || strings.Contains(rb[0], "reason:") {
		t.Errorf("gdb's client told %q, want no lldb key", rb)
	}
	h.send(a, "qThreadStopInfo65")
	if got := h.replies(a); len(got) != 1 || !strings.HasPrefix(got[0], "T1e") || !strings.HasSuffix(got[0], "reason:signal;") {
		t.Errorf("qThreadStopInfo65: %q, want the stop told", got)
	}
	h.send(a, "qThreadStopInfo64")
	if got := h.replies(a); len(got) != 1 || !strings.HasPrefix(got[0], "T00") {
		t.Errorf("qThreadStopInfo64: %q, want T00 for a thread with no reason", got)
	}
	h.send(a, "qWatchpointSupportInfo:")
	if got := h.replies(a); len(got) != 1 || got[0] != "num:1024;" {
		t.Errorf("qWatchpointSupportInfo: %q", got)
	}
}
