package linux

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// eventTimeout bounds every wait for an event.
const eventTimeout = 30 * time.Second

var (
	buildDir  string
	buildMu   sync.Mutex
	buildOnce = map[string]string{} // name -> binary, or "!" + error
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "target-linux-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// program compiles testdata/NAME.c once per test binary (non-PIE, so that
// symbol addresses are the run-time ones) and returns the binary's path.
func program(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildOnce[name]; ok {
		if strings.HasPrefix(p, "!") {
			t.Fatal(p[1:])
		}
		return p
	}
	out := filepath.Join(buildDir, name)
	args := []string{"-g", "-O0", "-pthread", "-no-pie", "-fno-pie", "-o", out, filepath.Join("testdata", name+".c")}
	if cpu.X86.HasAVX {
		args = append(args, "-mavx")
	}
	cmd := exec.Command("gcc", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		buildOnce[name] = fmt.Sprintf("!gcc %s: %v\n%s", name, err, b)
		t.Fatal(buildOnce[name][1:])
	}
	buildOnce[name] = out
	return out
}

// symbol returns the address of a symbol of a test program.
func symbol(t testing.TB, bin, name string) uint64 {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s: no symbol %s", bin, name)
	return 0
}

// launch starts a test program; the test kills it (if it is still there)
// when it ends.
func launch(t testing.TB, name string, args ...string) (*Process, string) {
	t.Helper()
	bin := program(t, name)
	p, err := Launch(Config{Path: bin, Args: append([]string{bin}, args...)})
	if err != nil {
		t.Fatalf("Launch(%s): %v", name, err)
	}
	t.Cleanup(func() { cleanup(t, p) })
	return p, bin
}

// cleanup kills the process and drains its events until they are closed.
func cleanup(t testing.TB, p *Process) {
	p.Kill()
	deadline := time.After(eventTimeout)
	for {
		select {
		case _, ok := <-p.Events():
			if !ok {
				<-p.done
				return
			}
		case <-deadline:
			t.Errorf("process %d: events not closed %v after Kill", p.Pid(), eventTimeout)
			return
		}
	}
}

// next waits for the next event.
func next(t testing.TB, p *Process) target.Event {
	t.Helper()
	select {
	case ev, ok := <-p.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatalf("no event within %v", eventTimeout)
	}
	panic("unreachable")
}

// nextReal waits for the next event, passing SIGCHLD stops (a child of
// the program exited) back to the program as a client would.
func nextReal(t testing.TB, p *Process) target.Event {
	t.Helper()
	for {
		ev := next(t, p)
		if ev.Kind != target.EventStopped || len(ev.Stops) != 1 ||
			ev.Stops[0].Reason != target.StopSignal || ev.Stops[0].Signal != target.Signal(unix.SIGCHLD) {
			return ev
		}
		if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: ev.Stops[0].Signal}}); err != nil {
			t.Fatal(err)
		}
	}
}

// noEvent checks that no event is waiting.
func noEvent(t testing.TB, p *Process) {
	t.Helper()
	select {
	case ev, ok := <-p.Events():
		t.Fatalf("unexpected event %+v (open %v)", ev, ok)
	default:
	}
}

func cont(t testing.TB, p *Process) {
	t.Helper()
	if err := p.Resume([]target.Action{{Kind: target.Continue}}); err != nil {
		t.Fatalf("Resume: %v", err)
	}
}

// stopOf returns the stop of tid in ev, failing if there is none.
func stopOf(t testing.TB, ev target.Event, tid target.Tid) target.ThreadStop {
	t.Helper()
	for _, s := range ev.Stops {
		if s.Tid == tid {
			return s
		}
	}
	t.Fatalf("no stop for thread %d in %+v", tid, ev)
	return target.ThreadStop{}
}

// onlyStop checks that ev is a stop with one reason and returns it.
func onlyStop(t testing.TB, ev target.Event) target.ThreadStop {
	t.Helper()
	if ev.Kind != target.EventStopped || len(ev.Stops) != 1 {
		t.Fatalf("want one stop, got %+v", ev)
	}
	return ev.Stops[0]
}

// regs reads the register file of a thread.
func regs(t testing.TB, p *Process, tid target.Tid) []byte {
	t.Helper()
	buf := make([]byte, p.Description().Size())
	if err := p.ReadRegisters(tid, buf); err != nil {
		t.Fatalf("ReadRegisters(%d): %v", tid, err)
	}
	return buf
}

func reg64(t testing.TB, p *Process, buf []byte, name string) uint64 {
	t.Helper()
	r, ok := p.Description().Lookup(name)
	if !ok {
		t.Fatalf("no register %s", name)
	}
	return le.Uint64(buf[r.Offset:])
}

// tracerGoroutines counts the goroutines running a tracer.
func tracerGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "target/linux.(*tracer).start.func")
}
