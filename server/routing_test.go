package server

import (
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/target"
)

// fakeProcess is a target the test drives by hand: Resume records the
// actions, the test sends the events. It stands beside the real tests
// (cmd/gdbserverx), which run real processes; here the routing rules are
// checked one by one.
type fakeProcess struct {
	desc        *target.Description
	events      []target.Event
	resumes     [][]target.Action
	interrupts  int
	breaks      map[uint64]bool
	debugImages []target.DebugRegisters
	once        sync.Once
	// kernelSlots, when not 0, is how many slots the kernel lets the
	// process have: a fault injected where the real kernel cannot be
	// made to refuse on demand (cmd/gdbserverx has the real test, with
	// slots taken by perf_event_open).
	kernelSlots int
}

func newFakeProcess() *fakeProcess {
	d := (&target.Description{Architecture: "i386:x86-64", Features: []target.Feature{{
		Name: "org.gnu.gdb.i386.core",
		Registers: []target.Register{
			{Name: "rbp", Bits: 64, Type: "data_ptr"}, {Name: "rsp", Bits: 64, Type: "data_ptr"}, {Name: "rip", Bits: 64, Type: "code_ptr"},
		},
	}}}).Finish()
	return &fakeProcess{desc: d, breaks: map[uint64]bool{}}
}

func (f *fakeProcess) Pid() int                         { return 100 }
func (f *fakeProcess) Description() *target.Description { return f.desc }
func (f *fakeProcess) Threads() ([]target.Thread, error) {
	return []target.Thread{{Tid: 100}, {Tid: 101}}, nil
}
func (f *fakeProcess) ReadRegisters(target.Tid, []byte) error { return nil }
func (f *fakeProcess) WriteRegisters(target.Tid, []byte) error {
	return nil
}
func (f *fakeProcess) ReadMemory(addr uint64, buf []byte) (int, error) { return len(buf), nil }
func (f *fakeProcess) WriteMemory(addr uint64, b []byte) (int, error)  { return len(b), nil }
func (f *fakeProcess) Resume(a []target.Action) error {
	// Like target/linux: the kernel refuses a slot when the image enables
	// more than it has (another perf user holds the rest), before any
	// thread runs.
	if f.kernelSlots > 0 && len(f.debugImages) > 0 {
		img := hwbp.Image(f.debugImages[len(f.debugImages)-1])
		if img.Enabled().Len() > f.kernelSlots {
			return &target.DebugRegisterError{Tid: 100, Reg: 7, Err: target.ErrNoSpace}
		}
	}
	f.resumes = append(f.resumes, a)
	return nil
}
func (f *fakeProcess) NextEvent() (target.Event, bool) {
	if len(f.events) == 0 {
		return target.Event{}, false
	}
	ev := f.events[0]
	f.events = f.events[1:]
	return ev, true
}
func (f *fakeProcess) Interrupt() error { f.interrupts++; return nil }
func (f *fakeProcess) Kill() error {
	f.once.Do(func() { f.events = append(f.events, target.Event{Kind: target.EventSignaled, Signal: target.SIGKILL}) })
	return nil
}
func (f *fakeProcess) Detach() error                      { return nil }
func (f *fakeProcess) InsertBreakpoint(addr uint64) error { f.breaks[addr] = true; return nil }
func (f *fakeProcess) RemoveBreakpoint(addr uint64) error { delete(f.breaks, addr); return nil }
func (f *fakeProcess) SetDebugRegisters(d target.DebugRegisters) error {
	f.debugImages = append(f.debugImages, d)
	return nil
}

// pipeConn is a comm.Conn without descriptors: the core loop neither
// reads nor writes it, and the test takes the client's replies from its
// Endpoint's output (takePayloads).
type pipeConn struct{ net.Conn }

func (pipeConn) Peer() string    { return "test" }
func (pipeConn) Fds() (int, int) { return -1, -1 }

// harness is a Server around a fakeProcess with clients added by hand.
type harness struct {
	t *testing.T
	s *Server
	f *fakeProcess
}

func newHarness(t *testing.T) *harness {
	f := newFakeProcess()
	lc := &ListenerConfig{MaxPriority: 100}
	w, err := newWake()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	s := newServer(Config{Log: io.Discard, MaxClients: 8, Listeners: []ListenerConfig{*lc}}, w)
	s.setProc(newProcess(f, fakeBackend{}, s.log, false, "prog"))
	s.procs.main().threads = []target.Tid{100, 101}
	s.procs.main().lastTid = 100
	return &harness{t: t, s: s, f: f}
}

// client adds a connected client, stopped (holding the program).
func (h *harness) client() *client {
	a, b := net.Pipe()
	h.t.Cleanup(func() { a.Close(); b.Close() })
	c := newClient(h.s, h.s.nextID, comm.Conn(pipeConn{a}), &h.s.cfg.Listeners[0])
	h.s.nextID++
	h.s.clients = append(h.s.clients, c)
	c.setState(clientStopped)
	c.multiprocess = true
	c.swbreak = true
	return c
}

// send has a client send a packet, then lets the core settle.
func (h *harness) send(c *client, payload string) {
	req, err := rsp.Parse([]byte(payload))
	if err != nil {
		h.t.Fatalf("%q: %v", payload, err)
	}
	c.handle(req)
	h.s.settle()
}

// replies drains what the client was sent, as payloads.
func (h *harness) replies(c *client) []string { return takePayloads(c) }

// takePayloads takes what waits in the client's output (its connection
// has no descriptor: nothing is written) and returns the packets'
// payloads, acknowledgments left out.
func takePayloads(c *client) []string {
	var out []string
	rd := rsp.NewEndpoint(rsp.EndpointOptions{MaxPayload: 1 << 20, FromServer: true})
	rd.SetNoAck()
	in := c.io.ep.Output()
	for len(in) > 0 {
		n := copy(rd.Space(), in)
		rd.Filled(n)
		in = in[n:]
		for {
			f, err, ok := rd.Next()
			if !ok {
				break
			}
			if err == nil && f.Kind == rsp.FramePacket {
				out = append(out, string(f.Payload))
			}
		}
	}
	c.io.ep.Wrote(len(c.io.ep.Output()))
	return out
}

// event delivers a target event and lets the core settle.
func (h *harness) event(ev target.Event) {
	h.s.onEvent(h.s.procs.main(), ev)
	h.s.settle()
}

func stopped(stops ...target.ThreadStop) target.Event {
	return target.Event{Kind: target.EventStopped, Stops: stops, Threads: []target.Tid{100, 101}}
}

// TestStopRouting: each kind of stop reaches exactly the clients it
// concerns (DESIGN.md, "Several clients, one target"); the others stay
// running and get nothing.
func TestStopRouting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness, a, b *client) // both stopped; ends with both running
		ev    target.Event
		toA   string // prefix of A's reply, "" for none
		toB   string
	}{
		{
			name: "breakpoint: its owner only",
			setup: func(h *harness, a, b *client) {
				h.send(a, "Z0,1000,1")
				h.send(a, "vCont;c")
				h.send(b, "vCont;c")
			},
			ev:  stopped(target.ThreadStop{Tid: 101, Reason: target.StopBreakpoint, Signal: target.SIGTRAP, PC: 0x1000}),
			toA: "T05swbreak:;", toB: "",
		},
		{
			name: "shared breakpoint: both owners",
			setup: func(h *harness, a, b *client) {
				h.send(a, "Z0,1000,1")
				h.send(b, "Z0,1000,1")
				h.send(a, "vCont;c")
				h.send(b, "vCont;c")
			},
			ev:  stopped(target.ThreadStop{Tid: 101, Reason: target.StopBreakpoint, Signal: target.SIGTRAP, PC: 0x1000}),
			toA: "T05swbreak:;", toB: "T05swbreak:;",
		},
		{
			name: "signal: everyone",
			setup: func(h *harness, a, b *client) {
				h.send(a, "vCont;c")
				h.send(b, "vCont;c")
			},
			ev:  stopped(target.ThreadStop{Tid: 100, Reason: target.StopSignal, Signal: target.SIGSEGV}),
			toA: "T0b", toB: "T0b",
		},
		{
			name: "step: the client that stepped",
			setup: func(h *harness, a, b *client) {
				h.send(a, "vCont;c")
				h.send(b, "vCont;s:p64.65;c")
			},
			ev:  stopped(target.ThreadStop{Tid: 101, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: hwbp.DR6SingleStep}),
			toA: "", toB: "T05",
		},
		{
			name: "watchpoint: its owner only",
			setup: func(h *harness, a, b *client) {
				h.send(b, "Z2,2000,4")
				h.send(a, "vCont;c")
				h.send(b, "vCont;c")
			},
			ev:  stopped(target.ThreadStop{Tid: 100, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: hwbp.DR6Hit(0)}),
			toA: "", toB: "T05watch:2000;",
		},
		{
			name: "shared watchpoint piece: both owners",
			setup: func(h *harness, a, b *client) {
				h.send(a, "Z2,2000,4")
				h.send(b, "Z2,2000,4")
				h.send(a, "vCont;c")
				h.send(b, "vCont;c")
			},
			ev:  stopped(target.ThreadStop{Tid: 100, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: hwbp.DR6Hit(0)}),
			toA: "T05watch:2000;", toB: "T05watch:2000;",
		},
		{
			name: "exit: everyone",
			setup: func(h *harness, a, b *client) {
				h.send(a, "vCont;c")
				h.send(b, "vCont;c")
			},
			ev:  target.Event{Kind: target.EventExited, ExitCode: 3},
			toA: "W03;process:64", toB: "W03;process:64",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			a, b := h.client(), h.client()
			tc.setup(h, a, b)
			h.replies(a)
			h.replies(b)
			if len(h.f.resumes) != 1 {
				t.Fatalf("the program was resumed %d times, want once (after both resumed)", len(h.f.resumes))
			}
			h.event(tc.ev)
			for _, x := range []struct {
				c    *client
				want string
				name string
			}{{a, tc.toA, "A"}, {b, tc.toB, "B"}} {
				got := h.replies(x.c)
				switch {
				case x.want == "" && len(got) > 0:
					t.Errorf("%s was told %q; it should not have noticed", x.name, got)
				case x.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], x.want)):
					t.Errorf("%s was told %q, want one reply starting %q", x.name, got, x.want)
				}
				if x.want == "" && x.c.state != clientRunning {
					t.Errorf("%s is %v, want still running", x.name, x.c.state)
				}
			}
		})
	}
}

// TestInterruptRouting: Ctrl-C stops the program for the client that sent
// it; another running client is not told.
func TestInterruptRouting(t *testing.T) {
	h := newHarness(t)
	a, b := h.client(), h.client()
	h.send(a, "vCont;c")
	h.send(b, "vCont;c")
	h.s.interruptFrom(a)
	if h.f.interrupts != 1 {
		t.Fatalf("Interrupt called %d times", h.f.interrupts)
	}
	h.event(target.Event{Kind: target.EventStopped, Interrupted: true, Threads: []target.Tid{100, 101}})
	if got := h.replies(a); len(got) != 1 || !strings.HasPrefix(got[0], "T02") {
		t.Errorf("A (sent Ctrl-C) got %q, want T02", got)
	}
	if got := h.replies(b); len(got) != 0 || b.state != clientRunning {
		t.Errorf("B got %q and is %v; it should not notice", got, b.state)
	}
	// When A resumes, the program runs again for both.
	h.send(a, "vCont;c")
	if len(h.f.resumes) != 2 {
		t.Errorf("resumes: %d, want 2", len(h.f.resumes))
	}
}

// TestCombinedResume: the program runs only when no client holds it, and
// then with every client's request combined per thread.
func TestCombinedResume(t *testing.T) {
	h := newHarness(t)
	a, b := h.client(), h.client()
	h.send(a, "vCont;s:p64.65;c")
	if len(h.f.resumes) != 0 {
		t.Fatalf("resumed while B holds the program")
	}
	h.send(b, "vCont;C1e:p64.64;c")
	if len(h.f.resumes) != 1 {
		t.Fatalf("resumes: %d, want 1", len(h.f.resumes))
	}
	want := map[target.Tid]target.Action{
		100: {Tid: 100, Kind: target.Continue, Signal: 10}, // B passes SIGUSR1 (GDB 30 = 0x1e)
		101: {Tid: 101, Kind: target.Step},                 // A steps it
	}
	for _, a := range h.f.resumes[0] {
		if want[a.Tid] != a {
			t.Errorf("thread %d: %+v, want %+v", a.Tid, a, want[a.Tid])
		}
		delete(want, a.Tid)
	}
	if len(want) != 0 {
		t.Errorf("threads not resumed: %v", want)
	}
}

// TestChurnWritesNothing: gdb's remove-all/insert-all at a stop gives the
// target the same debug-register image (so it writes nothing).
func TestChurnWritesNothing(t *testing.T) {
	h := newHarness(t)
	a := h.client()
	h.send(a, "Z2,2000,4")
	h.send(a, "Z4,3000,8")
	h.send(a, "vCont;c")
	if len(h.f.debugImages) != 1 {
		t.Fatalf("debug images set: %d, want 1", len(h.f.debugImages))
	}
	h.event(stopped(target.ThreadStop{Tid: 100, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: hwbp.DR6Hit(0)}))
	h.replies(a)
	for _, p := range []string{"z2,2000,4", "z4,3000,8", "Z4,3000,8", "Z2,2000,4", "vCont;c"} {
		h.send(a, p)
	}
	if len(h.f.debugImages) != 1 {
		t.Errorf("a stop and resume with the same points set the image again: %d images", len(h.f.debugImages))
	}
	img := hwbp.Image(h.f.debugImages[0])
	if img.Enabled().Len() != 2 {
		t.Errorf("image %v, want two slots enabled", img)
	}
}

// TestCtrlCWhileStopped: a Ctrl-C that comes while the client holds the
// program (gdb sends it between the packets of one `continue`) is kept:
// the next resume stops at once with SIGINT, the program not run.
func TestCtrlCWhileStopped(t *testing.T) {
	h := newHarness(t)
	a := h.client()
	h.s.interruptFrom(a)
	h.send(a, "vCont;c")
	if got := h.replies(a); len(got) != 1 || !strings.HasPrefix(got[0], "T02") {
		t.Errorf("after a deferred Ctrl-C, vCont;c got %q, want T02", got)
	}
	if len(h.f.resumes) != 0 {
		t.Errorf("the program ran %d times; the Ctrl-C should have kept it stopped", len(h.f.resumes))
	}
}

// TestKernelRefusesSlot: when the kernel refuses a debug-register slot
// (ENOSPC: a perf user holds it), the arbiter plans with one slot less,
// the most recent point leaves the hardware with a notice, and the
// program runs; nothing is lost (the point is then watched in software,
// or, as here without the engine, suspended under its owner's policy).
func TestKernelRefusesSlot(t *testing.T) {
	h := newHarness(t)
	h.f.kernelSlots = 3
	a := h.client()
	a.policy = arbiter.PolicySuspend
	for _, z := range []string{"Z2,2000,8", "Z2,2008,8", "Z2,2010,8", "Z2,2018,8"} {
		h.send(a, z)
		if got := h.replies(a); len(got) != 1 || got[0] != "OK" {
			t.Fatalf("%s: %q", z, got)
		}
	}
	h.send(a, "vCont;c")
	if len(h.f.resumes) != 1 {
		t.Fatalf("the program ran %d times, want once (after a re-plan)", len(h.f.resumes))
	}
	if img := hwbp.Image(h.f.debugImages[len(h.f.debugImages)-1]); img.Enabled().Len() != 3 {
		t.Errorf("image after ENOSPC: %v, want 3 slots", img)
	}
	var out strings.Builder
	for _, r := range h.replies(a) {
		if text, ok := rsp.DecodeConsoleOutput([]byte(r)); ok {
			out.Write(text)
		}
	}
	const want = "gdbserverx: watch 0x2018 len 8: evicted from hardware: the kernel refused a debug-register slot; now suspended until a slot frees\n"
	if out.String() != want {
		t.Errorf("notices: %q, want %q", out.String(), want)
	}
	if usable, _ := h.s.procs.main().dp.Capacity(); usable != 3 {
		t.Errorf("arbiter capacity %d, want 3", usable)
	}
	var fourth []debugpoints.Point
	for pt := range h.s.procs.main().dp.Points(a.id) {
		if pt.Request == (hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x2018, Len: 8}) {
			fourth = append(fourth, pt)
		}
	}
	if len(fourth) != 1 || fourth[0].State != arbiter.Suspended {
		t.Errorf("the fourth point: %+v; want suspended", fourth)
	}
}

// TestPendingStepBesideWatch: a step of one thread completes in the stop
// where another thread hits a watchpoint. The client is told one of the
// two; the other waits for its next resume (the real test with gdb is
// cmd/gdbserverx TestStepiBesideWatchHits). The watchpoint hit is an
// event and is told once, later; the step completion only answers a
// step of the same thread, and is dropped when the client continues
// that thread instead.
func TestPendingStepBesideWatch(t *testing.T) {
	step := target.ThreadStop{Tid: 101, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: hwbp.DR6SingleStep}
	watch := target.ThreadStop{Tid: 100, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: hwbp.DR6Hit(0)}
	const (
		stepReply  = `^T05[0-9a-f:;]*thread:p64\.65;$`
		watchReply = `^T05watch:2000;.*thread:p64\.64;$`
	)
	for _, tc := range []struct {
		name   string
		stops  []target.ThreadStop
		first  string // the stop reply of the stepping resume (a regexp)
		resume string // the client's next resume
		then   string // its reply without a run (a regexp), "" when the program must run
	}{
		{"watch told, then another thread stepped", []target.ThreadStop{watch, step}, watchReply, "vCont;s:p64.64;c", ""},
		{"watch told, then the thread continued", []target.ThreadStop{watch, step}, watchReply, "vCont;c", ""},
		{"watch told, then the same thread stepped", []target.ThreadStop{watch, step}, watchReply, "vCont;s:p64.65;c", stepReply},
		{"step told, then the watch", []target.ThreadStop{step, watch}, stepReply, "vCont;s:p64.64;c", watchReply},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			a := h.client()
			h.send(a, "Z2,2000,4")
			h.send(a, "vCont;s:p64.65;c")
			h.replies(a)
			h.event(stopped(tc.stops...))
			if got := h.replies(a); len(got) != 1 || !regexp.MustCompile(tc.first).MatchString(got[0]) {
				t.Fatalf("first stop: %q, want %q", got, tc.first)
			}
			runs := len(h.f.resumes)
			h.send(a, tc.resume)
			got := h.replies(a)
			switch {
			case tc.then == "" && (len(got) != 0 || len(h.f.resumes) != runs+1):
				t.Errorf("%s: told %q, program ran %d times; want no reply and a run", tc.resume, got, len(h.f.resumes)-runs)
			case tc.then != "" && (len(got) != 1 || !regexp.MustCompile(tc.then).MatchString(got[0]) || len(h.f.resumes) != runs):
				t.Errorf("%s: told %q, program ran %d times; want %q without a run", tc.resume, got, len(h.f.resumes)-runs, tc.then)
			}
			if tc.then == "" {
				return
			}
			// Each pending stop is told once: the next resume runs.
			h.send(a, "vCont;c")
			if got := h.replies(a); len(got) != 0 || len(h.f.resumes) != runs+1 {
				t.Errorf("after both stops were told: %q, %d runs; want none and a run", got, len(h.f.resumes)-runs)
			}
		})
	}
}

// setProc makes p the only process (the tests' process of one target).
func (s *Server) setProc(p *process) {
	s.procs = nil
	s.addProc(p)
}
