package swwatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"gdbserverx/hwbp"
	"gdbserverx/target"
	"gdbserverx/target/linux"
)

// The benchmark (issue 7): testdata/bench.c, a compute loop of
// about 10^6 instructions writing the watched variable 200 times, with
// the variable alone on its page and sharing its page with hot data.
// BenchmarkLoop runs it under the engine with a Write watch on g, the
// timed region being the program's bench_start()..bench_end() (every hit
// is reported and the run resumed, as gdb's `silent; continue` does),
// and compares it with the same region run natively. scripts/gdb-swwatch.sh
// runs the same program under gdb's own software watchpoint.
//
//	go test ./swwatch -run '^$' -bench Loop -benchtime 3x
const (
	benchIters  = 100000 // about 12 instructions each
	benchWrites = 200
)

var benchLine = regexp.MustCompile(`bench_ns=(\d+) writes=(\d+) checksum=(\d+)`)

// benchResult is one run of testdata/bench.c.
type benchResult struct {
	region   time.Duration // bench_start..bench_end, as the tracer saw it
	hits     int
	checksum string
	stats    Stats
}

// nativeBench runs the region without a debugger and returns the median
// of five runs, and the checksum.
func nativeBench(t testing.TB, bin, mode string, iters, writes int) (time.Duration, string) {
	t.Helper()
	var ds []time.Duration
	var sum string
	for i := 0; i < 5; i++ {
		out, err := exec.Command(bin, mode, strconv.Itoa(iters), strconv.Itoa(writes)).Output()
		if err != nil {
			t.Fatal(err)
		}
		m := benchLine.FindSubmatch(out)
		if m == nil {
			t.Fatalf("native run printed %q", out)
		}
		ns, _ := strconv.Atoi(string(m[1]))
		ds = append(ds, time.Duration(ns))
		sum = string(m[3])
	}
	slices.Sort(ds)
	return ds[len(ds)/2], sum
}

// runBench runs testdata/bench.c under the engine with a Write watch on
// g from bench_start on.
func runBench(t testing.TB, mode string, iters, writes int) benchResult {
	t.Helper()
	bin := program(t, "bench")
	outFile, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	lp, err := tracerFor(t).Launch(linux.Config{Path: bin, Args: []string{bin, mode, strconv.Itoa(iters), strconv.Itoa(writes)}, Stdout: outFile})
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(lp)
	if err != nil {
		lp.Kill()
		t.Fatal(err)
	}
	s := &session{t: t, w: w, inner: lp, bin: bin}
	defer s.kill()
	start := s.breakAt("bench_start")
	s.runTo(start, nil)
	w.RemoveBreakpoint(start)
	end := s.breakAt("bench_end")
	g := s.sym("alone")
	if mode == "shared" {
		g = s.sym("shared")
	}
	s.watch(Watch{ID: 1, Addr: g, Len: 8, Kind: Write})
	st0 := w.Stats()
	t0 := time.Now()
	c, ev := s.runTo(end, nil)
	region := time.Since(t0)
	st1 := w.Stats()
	if ev.Kind != target.EventStopped {
		t.Fatalf("the program ended before bench_end: %+v", ev)
	}
	s.watch()
	w.RemoveBreakpoint(end)
	if _, ev := s.runTo(0, nil); ev.Kind != target.EventExited || ev.ExitCode != 0 {
		t.Fatalf("end: %+v", ev)
	}
	b, _ := os.ReadFile(outFile.Name())
	m := benchLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("the program printed %q", b)
	}
	return benchResult{region: region, hits: c[1][target.WatchWrite], checksum: string(m[3]), stats: st1.sub(st0)}
}

func (s Stats) sub(o Stats) Stats {
	return Stats{
		Faults: s.Faults - o.Faults, FalseFaults: s.FalseFaults - o.FalseFaults, Emulated: s.Emulated - o.Emulated,
		Undecodable: s.Undecodable - o.Undecodable, Hits: s.Hits - o.Hits, KernelWrites: s.KernelWrites - o.KernelWrites,
		Steps: s.Steps - o.Steps, MProtects: s.MProtects - o.MProtects, Injected: s.Injected - o.Injected,
		SyscallStops: s.SyscallStops - o.SyscallStops, OpenSyscalls: s.OpenSyscalls - o.OpenSyscalls,
		InPlace: s.InPlace - o.InPlace, SilentResumes: s.SilentResumes - o.SilentResumes, Skipped: s.Skipped - o.Skipped,
	}
}

// BenchmarkLoop is the benchmark; see the constants above.
func BenchmarkLoop(b *testing.B) {
	for _, mode := range []string{"alone", "shared"} {
		b.Run(mode, func(b *testing.B) {
			bin := program(b, "bench")
			native, sum := nativeBench(b, bin, mode, benchIters, benchWrites)
			var total time.Duration
			var st Stats
			for i := 0; i < b.N; i++ {
				r := runBench(b, mode, benchIters, benchWrites)
				if r.hits != benchWrites || r.checksum != sum {
					b.Fatalf("%d hits, checksum %s; want %d, %s", r.hits, r.checksum, benchWrites, sum)
				}
				total += r.region
				st = r.stats
			}
			region := total / time.Duration(b.N)
			b.ReportMetric(float64(region.Microseconds())/1e3, "region-ms")
			b.ReportMetric(float64(native.Microseconds())/1e3, "native-ms")
			b.ReportMetric(float64(region)/float64(native), "slowdown")
			b.ReportMetric(float64(region.Microseconds())/float64(max(st.Faults, 1)), "µs/fault")
			b.ReportMetric(float64(st.Faults), "faults")
			b.ReportMetric(float64(st.Emulated), "emulated")
			b.Logf("%s: region %v, native %v, stats %+v", mode, region, native, st)
		})
	}
}

// hwWatch8 is the image of an 8-byte write watchpoint at addr in slot 0,
// encoded by hwbp. The benchmarks and tests compare with hardware; the
// engine itself never writes debug registers.
func hwWatch8(addr uint64) target.DebugRegisters {
	return target.DebugRegisters(hwbp.Slots{{Addr: addr, Len: 8, Cond: hwbp.CondWrite}}.MustEncode())
}

// BenchmarkDense is the dense case of the issue: a loop where every
// iteration writes the watched variable (testdata/access.c w), each hit
// reported to the caller, which resumes at once. hw is a hardware
// watchpoint on the bare target, hw-wrapped the same through the wrapper
// with no emulated watch (its idle cost), sw the engine, sw-long the
// engine with a watch of MaxWatchLen over a 1 MiB array written all over
// (testdata/access.c wbig). µs/hit is the caller's wall time per reported
// hit.
func BenchmarkDense(b *testing.B) {
	const n = 2000
	for _, mode := range []string{"hw", "hw-wrapped", "sw", "sw-long"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				bin := program(b, "access")
				what := "w"
				if mode == "sw-long" {
					what = "wbig"
				}
				lp, err := tracerFor(b).Launch(linux.Config{Path: bin, Args: []string{bin, what, strconv.Itoa(n)}})
				if err != nil {
					b.Fatal(err)
				}
				var p target.Process = lp
				if mode != "hw" {
					w, err := New(lp)
					if err != nil {
						b.Fatal(err)
					}
					p = w
				}
				g := symbol(b, bin, "alone")
				switch mode {
				case "sw":
					p.(*Process).SetWatches([]Watch{{ID: 1, Addr: g, Len: 8, Kind: Write}})
				case "sw-long":
					p.(*Process).SetWatches([]Watch{{ID: 1, Addr: symbol(b, bin, "big"), Len: MaxWatchLen, Kind: Write}})
				default:
					p.(target.HardwareDebug).SetDebugRegisters(hwWatch8(g))
				}
				t0 := time.Now()
				hits := 0
				for {
					if err := p.Resume([]target.Action{{Kind: target.Continue}}); err != nil {
						b.Fatal(err)
					}
					ev, ok := nextEvent(tracerFor(b), p, eventTimeout)
					if !ok {
						b.Fatal("no event")
					}
					if ev.Kind != target.EventStopped {
						break
					}
					for _, st := range ev.Stops {
						if st.Reason == target.StopWatch || st.Reason == target.StopDebug && st.DR6&1 != 0 {
							hits++
						}
					}
				}
				total += time.Since(t0)
				if hits != n {
					b.Fatalf("%d hits, want %d", hits, n)
				}
			}
			b.ReportMetric(float64(total.Nanoseconds())/1e3/float64(b.N*n), "µs/hit")
		})
	}
}

// BenchmarkIdleStep is one single-step cycle (Resume with Step, then the
// event) on the bare target and through the wrapper with no watch: the
// wrapper's cost when idle (a function call per event).
func BenchmarkIdleStep(b *testing.B) {
	for _, mode := range []string{"bare", "wrapped"} {
		b.Run(mode, func(b *testing.B) {
			bin := program(b, "access")
			lp, err := tracerFor(b).Launch(linux.Config{Path: bin, Args: []string{bin, "w", "1000000000"}})
			if err != nil {
				b.Fatal(err)
			}
			var p target.Process = lp
			if mode == "wrapped" {
				w, err := New(lp)
				if err != nil {
					b.Fatal(err)
				}
				p = w
			}
			defer func() {
				p.Kill()
				for {
					ev, ok := nextEvent(tracerFor(b), p, eventTimeout)
					if !ok || ev.Kind != target.EventStopped {
						return
					}
				}
			}()
			step := []target.Action{{Tid: target.Tid(p.Pid()), Kind: target.Step}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Resume(step); err != nil {
					b.Fatal(err)
				}
				if ev, _ := nextEvent(tracerFor(b), p, eventTimeout); len(ev.Stops) != 1 || ev.Stops[0].Reason != target.StopDebug {
					b.Fatalf("%+v", ev)
				}
			}
		})
	}
}

// BenchmarkStepMode is the cost of one single step in step mode (a
// watch on a __thread variable, testdata/tls.c), per instruction the
// program executes between bench points.
func BenchmarkStepMode(b *testing.B) {
	const n = 200
	var total time.Duration
	var steps uint64
	for i := 0; i < b.N; i++ {
		s := start(b, "tls", strconv.Itoa(n))
		ready := s.breakAt("ready")
		s.runTo(ready, nil)
		s.w.RemoveBreakpoint(ready)
		done := s.breakAt("done")
		s.watch(Watch{ID: 1, Addr: s.readU64(s.sym("tvaddr")), Len: 8, Kind: Access})
		st0 := s.w.Stats()
		t0 := time.Now()
		s.runTo(done, nil)
		total += time.Since(t0)
		steps += s.w.Stats().Steps - st0.Steps
		s.kill()
	}
	b.ReportMetric(float64(total.Nanoseconds())/1e3/float64(steps), "µs/step")
	b.ReportMetric(float64(steps)/float64(b.N), "steps")
}

// BenchmarkFaultPaths is the cost of one false fault (testdata/access.c
// hot: the variable's page written all the time) on each path: emulated
// in the stop filter (the default), and stepped with the page open
// (two injected mprotect calls and a single step, on the event path).
func BenchmarkFaultPaths(b *testing.B) {
	const n = 500 // iterations, 18 faults each
	for _, mode := range []string{"emulated", "stepped"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			var faults uint64
			for i := 0; i < b.N; i++ {
				s := start(b, "access", "hot", strconv.Itoa(n))
				done := s.breakAt("done")
				s.w.e.noEmulate = mode == "stepped"
				s.watch(Watch{ID: 1, Addr: s.sym("shared") + 16*8, Len: 8, Kind: Write})
				st0 := s.w.Stats()
				t0 := time.Now()
				s.runTo(done, nil)
				total += time.Since(t0)
				faults += s.w.Stats().Faults - st0.Faults
				s.kill()
			}
			b.ReportMetric(float64(total.Nanoseconds())/1e3/float64(faults), "µs/fault")
		})
	}
}

// BenchmarkSyscallStop is the cost a system call pays while a watch is
// set (its entry and exit stops, served in the stop filter) against
// none: testdata/sysloop.c, getppid in a loop.
func BenchmarkSyscallStop(b *testing.B) {
	const n = 5000
	for _, mode := range []string{"unwatched", "watched"} {
		b.Run(mode, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				s := start(b, "sysloop", strconv.Itoa(n))
				begin := s.breakAt("bench_start")
				s.runTo(begin, nil)
				s.w.RemoveBreakpoint(begin)
				end := s.breakAt("bench_end")
				if mode == "watched" {
					s.watch(Watch{ID: 1, Addr: s.sym("g"), Len: 8, Kind: Write})
				}
				t0 := time.Now()
				s.runTo(end, nil)
				total += time.Since(t0)
				s.kill()
			}
			b.ReportMetric(float64(total.Nanoseconds())/1e3/float64(b.N*n), "µs/syscall")
		})
	}
}
