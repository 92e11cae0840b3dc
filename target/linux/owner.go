package linux

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Tracer is the OS thread that traces processes. ptrace binds a tracee
// to the thread that attached it (PTRACE_SEIZE, or the fork of a
// launch), and only that thread may make ptrace requests of it and wait
// for it; so the goroutine that calls NewTracer is locked to its thread
// for good, and it alone may call the methods of the Tracer and of its
// processes. The server's core loop is that goroutine: packets in,
// ptrace, replies out, on one thread, with no hand-off between threads
// (DESIGN.md, "Threads of the server").
//
// The Tracer learns of tracee events without blocking: EventFd becomes
// readable when one may have happened (sigchld.go), and Pump collects
// them, routes each status to its process and completes the stops; each
// process's events are then taken with its NextEvent.
type Tracer struct {
	tid   int // the owner thread
	note  *notifier
	procs map[int]*Process // by pid
	tids  map[int]*Process // every traced thread, to its process
	// orphans are the first stops of new threads and children whose
	// parent has not reported their creation yet (onNewChild takes them).
	orphans map[int]unix.WaitStatus
	closed  bool
}

// checkOwner, when set (tests), makes every call check that it comes
// from the owner thread.
var checkOwner = false

// NewTracer makes the calling goroutine's thread a tracer: it locks the
// goroutine to its thread for good (the thread ends with the goroutine,
// and with it its tracees are detached, or killed if launched).
func NewTracer() (*Tracer, error) {
	runtime.LockOSThread()
	n, err := newNotifier()
	if err != nil {
		return nil, err
	}
	return &Tracer{
		tid:     unix.Gettid(),
		note:    n,
		procs:   map[int]*Process{},
		tids:    map[int]*Process{},
		orphans: map[int]unix.WaitStatus{},
	}, nil
}

// check panics when the Tracer is used from another thread: a bug, which
// the kernel would otherwise report as ESRCH from ptrace.
func (t *Tracer) check() {
	if checkOwner {
		if tid := unix.Gettid(); tid != t.tid {
			panic(fmt.Sprintf("linux: tracer of thread %d called from thread %d", t.tid, tid))
		}
	}
}

// EventFd is readable (POLLIN) when a tracee may have changed state:
// call Pump then. It stays valid until Close.
func (t *Tracer) EventFd() int { return int(t.note.fd) }

// Wait blocks until the event fd is readable or d has passed, and pumps.
// It reports whether it pumped. For owners that have nothing else to
// wait for (tests, tools); the server polls EventFd beside its sockets.
func (t *Tracer) Wait(d time.Duration) bool {
	deadline := time.Now().Add(d)
	fds := []unix.PollFd{{Fd: t.note.fd, Events: unix.POLLIN}}
	for {
		left := time.Until(deadline)
		if left < 0 {
			return false
		}
		n, err := unix.Poll(fds, int((left+time.Millisecond-1)/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if n > 0 {
			t.Pump()
			return true
		}
	}
}

// Pump collects every status the kernel has for this thread's tracees,
// without blocking, and hands each to its process; processes whose stop
// is complete queue an event (Process.NextEvent).
func (t *Tracer) Pump() {
	t.check()
	t.note.clear()
	touched := make(map[*Process]bool, 1)
	for {
		var ws unix.WaitStatus
		wpid, err := wait4NoHang(-1, &ws, waitAll|unix.WNOHANG)
		if err == unix.EINTR {
			continue
		}
		if err != nil || wpid <= 0 {
			if errors.Is(err, unix.ECHILD) {
				// No tracee is left: processes still waiting for their
				// main thread's status will never see it.
				for _, p := range t.procs {
					if !p.over {
						p.lost(err)
					}
				}
			}
			break
		}
		if p := t.route(wpid, ws); p != nil {
			p.c.waits++
			touched[p] = true
		}
	}
	for p := range touched {
		p.settle()
	}
}

// route hands a status to the process of its thread, or keeps it.
func (t *Tracer) route(wpid int, ws unix.WaitStatus) *Process {
	p := t.tids[wpid]
	if p == nil {
		p = t.procs[wpid] // a main thread already out of the table
	}
	if p == nil {
		switch {
		case ws.Exited() || ws.Signaled():
			delete(t.orphans, wpid)
		case ws.Stopped() && stopEvent(ws) == unix.PTRACE_EVENT_STOP:
			// A new thread or fork child reporting its first stop before
			// its parent's clone/fork event: kept for onNewChild.
			t.orphans[wpid] = ws
		case ws.Stopped():
			// A tracee no process knows (its process ended without it):
			// let it go.
			unix.PtraceCont(wpid, 0)
		}
		return nil
	}
	p.dispatch(wpid, ws)
	return p
}

// takeOrphan returns the first stop of a new thread or child, if it came.
func (t *Tracer) takeOrphan(tid int) (unix.WaitStatus, bool) {
	ws, ok := t.orphans[tid]
	delete(t.orphans, tid)
	return ws, ok
}

// waitStopped blocks until every thread of p has stopped (Attach),
// routing the other statuses that arrive meanwhile.
func (t *Tracer) waitStopped(p *Process) error {
	for p.nRunning+p.nListening > 0 && !p.over {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, waitAll, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			p.lost(err)
			return err
		}
		p.c.waits++
		t.route(wpid, ws)
	}
	return nil
}

// adopt enters a new process and its threads in the tables.
func (t *Tracer) adopt(p *Process) {
	t.procs[p.pid] = p
	for tid := range p.threads {
		t.tids[tid] = p
	}
}

// forget takes a process that is over out of the tables.
func (t *Tracer) forget(p *Process) {
	if t.procs[p.pid] == p {
		delete(t.procs, p.pid)
	}
	for tid, q := range t.tids {
		if q == p {
			delete(t.tids, tid)
		}
	}
}

// Launch starts cfg's program on this thread (see the package's Launch).
func (t *Tracer) Launch(cfg Config) (*Process, error) {
	t.check()
	if t.closed {
		return nil, errors.New("launch: tracer closed")
	}
	return launchOn(t, cfg)
}

// Attach seizes a running process (see the package's Attach).
func (t *Tracer) Attach(pid int) (*Process, error) {
	t.check()
	if t.closed {
		return nil, errors.New("attach: tracer closed")
	}
	return attachOn(t, pid)
}

// Processes lists the processes being traced.
func (t *Tracer) Processes() []*Process {
	out := make([]*Process, 0, len(t.procs))
	for _, p := range t.procs {
		out = append(out, p)
	}
	return out
}

// Close releases the Tracer's eventfd. Processes still traced stay so
// until the thread ends (launched ones are then killed, attached ones
// detached, by the kernel).
func (t *Tracer) Close() {
	if !t.closed {
		t.closed = true
		t.note.release()
	}
}
