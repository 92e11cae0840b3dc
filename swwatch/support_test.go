package swwatch

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/target"
	"gdbserverx/target/linux"
)

// eventTimeout bounds every wait for an event.
const eventTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	code := m.Run()
	gdbtest.Cleanup()
	os.Exit(code)
}

// program compiles testdata/NAME.c once per test binary (-O1, non-PIE,
// so that symbols are run-time addresses) and returns the binary.
func program(t testing.TB, name string) string {
	t.Helper()
	return gdbtest.CompileC(t, filepath.Join("testdata", name+".c"), "-O1", "-no-pie", "-fno-pie")
}

// symbol returns the address of a symbol of a test program.
var symbol = gdbtest.Symbol

// session is a test program under the wrapper.
type session struct {
	t     testing.TB
	w     *Process
	inner *linux.Process
	bin   string
	notes []Note
	mu    sync.Mutex
}

// start launches testdata/NAME with args under the wrapper; the test
// kills it when it ends.
func start(t testing.TB, name string, args ...string) *session {
	t.Helper()
	bin := program(t, name)
	lp, err := tracerFor(t).Launch(linux.Config{Path: bin, Args: append([]string{bin}, args...)})
	if err != nil {
		t.Fatalf("Launch(%s): %v", name, err)
	}
	w, err := New(lp)
	if err != nil {
		lp.Kill()
		t.Fatal(err)
	}
	s := &session{t: t, w: w, inner: lp, bin: bin}
	w.SetNotes(func(n Note) {
		s.mu.Lock()
		s.notes = append(s.notes, n)
		s.mu.Unlock()
	})
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *session) kill() {
	if err := s.w.Kill(); errors.Is(err, target.ErrExited) {
		return // over already
	}
	deadline := time.Now().Add(eventTimeout)
	for {
		ev, ok := nextEvent(tracerFor(s.t), s.w, time.Until(deadline))
		if !ok {
			s.t.Errorf("no final event %v after Kill", eventTimeout)
			return
		}
		if ev.Kind != target.EventStopped {
			return
		}
	}
}

func (s *session) sym(name string) uint64 { s.t.Helper(); return symbol(s.t, s.bin, name) }

// next waits for the next event.
func (s *session) next() target.Event {
	s.t.Helper()
	ev, ok := nextEvent(tracerFor(s.t), s.w, eventTimeout)
	if !ok {
		s.t.Fatalf("no event within %v", eventTimeout)
	}
	return ev
}

// testTracers holds each test's Tracer: a test's goroutine is one
// thread, which can trace for one Tracer only.
var testTracers sync.Map // testing.TB -> *linux.Tracer

// tracerFor makes the test's goroutine a tracer (locked to its thread
// until the test ends) and returns its Tracer.
func tracerFor(t testing.TB) *linux.Tracer {
	t.Helper()
	if v, ok := testTracers.Load(t); ok {
		return v.(*linux.Tracer)
	}
	tr, err := linux.NewTracer()
	if err != nil {
		t.Fatalf("NewTracer: %v", err)
	}
	testTracers.Store(t, tr)
	t.Cleanup(func() {
		testTracers.Delete(t)
		tr.Close()
	})
	return tr
}

// nextEvent waits up to d for the next event of p.
func nextEvent(tr *linux.Tracer, p target.Process, d time.Duration) (target.Event, bool) {
	deadline := time.Now().Add(d)
	for {
		if ev, ok := p.NextEvent(); ok {
			return ev, true
		}
		if !tr.Wait(time.Until(deadline)) {
			return target.Event{}, false
		}
	}
}

func (s *session) resume(actions ...target.Action) {
	s.t.Helper()
	if len(actions) == 0 {
		actions = []target.Action{{Kind: target.Continue}}
	}
	if err := s.w.Resume(actions); err != nil {
		s.t.Fatalf("Resume: %v", err)
	}
}

func (s *session) watch(ws ...Watch) {
	s.t.Helper()
	if err := s.w.SetWatches(ws); err != nil {
		s.t.Fatalf("SetWatches(%v): %v", ws, err)
	}
}

func (s *session) breakAt(name string) uint64 {
	s.t.Helper()
	a := s.sym(name)
	if err := s.w.InsertBreakpoint(a); err != nil {
		s.t.Fatal(err)
	}
	return a
}

func (s *session) readU64(addr uint64) uint64 {
	s.t.Helper()
	var b [8]byte
	if _, err := s.w.ReadMemory(addr, b[:]); err != nil {
		s.t.Fatal(err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (s *session) reg(tid target.Tid, name string) uint64 {
	s.t.Helper()
	buf := make([]byte, s.w.Description().Size())
	if err := s.w.ReadRegisters(tid, buf); err != nil {
		s.t.Fatal(err)
	}
	r, ok := s.w.Description().Lookup(name)
	if !ok {
		s.t.Fatalf("no register %s", name)
	}
	return binary.LittleEndian.Uint64(buf[r.Offset:])
}

// tally counts hits per watch and kind.
type tally map[uint64]map[target.WatchKind]int

func (c tally) add(hs []target.WatchHit) {
	for _, h := range hs {
		if c[h.ID] == nil {
			c[h.ID] = map[target.WatchKind]int{}
		}
		c[h.ID][h.Kind]++
	}
}

// runTo resumes until a stop at the breakpoint at stopPC (or the end of
// the process, when stopPC is 0), counting watch hits on the way and
// passing signals with pass (or discarding them when pass is nil). It
// returns the counts and the final event.
func (s *session) runTo(stopPC uint64, pass func(target.ThreadStop) target.Signal) (tally, target.Event) {
	s.t.Helper()
	c := tally{}
	var sig target.Signal
	var sigTid target.Tid
	for {
		a := []target.Action{{Kind: target.Continue}}
		if sig != 0 {
			a = append(a, target.Action{Tid: sigTid, Kind: target.Continue, Signal: sig})
		}
		sig = 0
		s.resume(a...)
		ev := s.next()
		if ev.Kind != target.EventStopped {
			return c, ev
		}
		atStop := false
		for _, st := range ev.Stops {
			c.add(st.Watches)
			switch st.Reason {
			case target.StopWatch:
				if st.Signal != target.SIGTRAP || len(st.Watches) == 0 {
					s.t.Fatalf("watch stop %+v", st)
				}
			case target.StopBreakpoint:
				if st.PC == stopPC {
					atStop = true
				}
			case target.StopSignal:
				if pass == nil {
					s.t.Fatalf("unexpected signal stop %+v", st)
				}
				sig, sigTid = pass(st), st.Tid
			case target.StopDebug:
			default:
				s.t.Fatalf("unexpected stop %+v", st)
			}
		}
		if atStop {
			return c, ev
		}
	}
}

func (s *session) notesOf(k NoteKind) []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes {
		if n.Kind == k {
			out = append(out, n)
		}
	}
	return out
}

type waitStatus = unix.WaitStatus

// waitPid waits for a child that is no longer traced (the trampoline of
// target/linux forks from this process, so the program is our child).
func waitPid(pid int, ws *unix.WaitStatus) error {
	for {
		_, err := unix.Wait4(pid, ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}
