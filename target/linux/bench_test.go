package linux

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/procfs"
	"gdbserverx/target"
)

// tracerCPU returns the CPU time the tracer's OS thread (the benchmark's
// own, locked) has used (getrusage RUSAGE_THREAD).
func tracerCPU(b *testing.B, p *Process) time.Duration {
	b.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds the tracer's CPU and ptrace calls per cycle.
func report(b *testing.B, p *Process, cpu0 time.Duration, c0 target.Counts) {
	b.StopTimer()
	cpu := tracerCPU(b, p) - cpu0
	c := p.Counts()
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "tracer-µs/op")
	b.ReportMetric(float64(c.PtraceCalls-c0.PtraceCalls)/float64(b.N), "ptrace/op")
	b.ReportMetric(float64(c.Waits-c0.Waits)/float64(b.N), "waits/op")
}

// BenchmarkStep is one single-step cycle: Resume with Step, then the
// event (the thread's registers fetched for the server), through the
// event fd and Pump as the server takes it.
func BenchmarkStep(b *testing.B) {
	p, _ := launch(b, "loop")
	tid := target.Tid(p.Pid())
	step := []target.Action{{Tid: tid, Kind: target.Step}}
	cpu0, c0 := tracerCPU(b, p), p.Counts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Resume(step); err != nil {
			b.Fatal(err)
		}
		ev := next(b, p)
		if len(ev.Stops) != 1 || ev.Stops[0].Reason != target.StopDebug {
			b.Fatalf("%+v", ev)
		}
	}
	report(b, p, cpu0, c0)
}

// BenchmarkStopResume is one all-stop cycle: Resume every thread, then
// Interrupt and the event, with 1 and 100 threads blocked in read(2).
func BenchmarkStopResume(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("threads=%d", n), func(b *testing.B) {
			p, bin := launch(b, "many", fmt.Sprint(n-1))
			ready := symbol(b, bin, "all_ready")
			p.InsertBreakpoint(ready)
			cont(b, p)
			if ev := next(b, p); len(ev.Threads) != n {
				b.Fatalf("%d threads, want %d", len(ev.Threads), n)
			}
			p.RemoveBreakpoint(ready)
			all := []target.Action{{Kind: target.Continue}}
			cpu0, c0 := tracerCPU(b, p), p.Counts()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Resume(all); err != nil {
					b.Fatal(err)
				}
				p.Interrupt()
				if ev := next(b, p); !ev.Interrupted {
					b.Fatalf("%+v", ev)
				}
			}
			report(b, p, cpu0, c0)
		})
	}
}

// BenchmarkThreadCore is the core of a stopped thread, as the server
// reads it for every stop reply: a pread of its stat file kept open
// (cores.go), against the open, read and close of each call before.
func BenchmarkThreadCore(b *testing.B) {
	p, _ := launch(b, "loop")
	tid := target.Tid(p.Pid())
	b.Run("kept-open", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, ok := p.ThreadCore(tid); !ok {
				b.Fatal("no core")
			}
		}
	})
	b.Run("open-read-close", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			st, err := procfs.ReadTaskStat(p.Pid(), int(tid))
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := st.Int(procfs.StatProcessor); !ok {
				b.Fatal("no core")
			}
		}
	})
}
