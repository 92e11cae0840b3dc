package linux

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/procfs"
	"gdbserverx/target"
)

// attach seizes every thread of a running process and stops them all. No
// event is sent for this first stop. A signal that a thread was about to
// receive while it was being stopped is delivered at its first resume
// (unless that resume names a signal itself).
//
// The debug registers of attached threads are unknown: the first resume
// clears DR7 in each (one write per thread) unless an image is set.
func attachOn(t *Tracer, pid int) (*Process, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("attach %d: %w", pid, unix.ESRCH)
	}
	if pid == os.Getpid() {
		return nil, fmt.Errorf("attach %d: this is the server itself", pid)
	}
	if q := t.procs[pid]; q != nil && !q.over {
		return nil, fmt.Errorf("attach %d: already traced by process %d%s", pid, os.Getpid(), commOf(os.Getpid()))
	}
	p := newProcess(t)
	if err := p.seize(pid); err != nil {
		t.forget(p)
		return nil, err
	}
	p.probeRegisters()
	p.worldStopped = true
	t.adopt(p)
	return p, nil
}

// attachedDR is the record of an attached thread: its debug registers
// may hold anything (a debugger before us), so DR7 counts as "all slots
// enabled" and the first resume clears or rewrites it.
var attachedDR = target.DebugRegisters{Addr: unknownDR.Addr, Control: ^uint64(0)}

func (p *Process) seize(pid int) (err error) {
	p.pid = pid
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return fmt.Errorf("attach %d: no such process: %w", pid, unix.ESRCH)
	}
	defer func() {
		if err != nil {
			for _, th := range p.order {
				if !th.gone {
					p.c.ptrace(unix.PTRACE_DETACH, th.tid, 0, 0)
				}
			}
		}
	}()
	// Seize every thread, listing /proc/PID/task again until no new one
	// appears (threads created meanwhile by seized threads are attached by
	// PTRACE_O_TRACECLONE and answer EPERM: they are ours already).
	for {
		tids, err := tasks(pid)
		if err != nil {
			if len(p.order) == 0 {
				return fmt.Errorf("attach %d: no such process: %w", pid, unix.ESRCH)
			}
			return fmt.Errorf("attach %d: %w", pid, err)
		}
		added := 0
		for _, tid := range tids {
			if p.threads[tid] != nil {
				continue
			}
			ok, err := p.seizeThread(pid, tid)
			if err != nil {
				return err
			}
			if ok {
				p.addThread(tid, running, attachedDR)
				added++
			}
		}
		if added == 0 {
			break
		}
	}
	if len(p.threads) == 0 {
		return fmt.Errorf("attach %d: no thread to attach: %w", pid, unix.ESRCH)
	}
	mem, err := openMemory(pid)
	if err != nil {
		return fmt.Errorf("attach %d: %w", pid, err)
	}
	h, _ := os.FindProcess(pid)
	p.mem, p.handle = mem, h
	// Stop them all, as after an event.
	p.stopWorld()
	p.owner.waitStopped(p)
	if p.over {
		return fmt.Errorf("attach %d: the process exited: %w", pid, target.ErrExited)
	}
	for _, st := range p.stops {
		if th := p.threads[int(st.Tid)]; th != nil && st.Reason == target.StopSignal && st.Signal != target.SIGSTOP {
			th.requeue = int(st.Signal)
		}
	}
	for _, th := range p.order {
		if !th.gone {
			th.regs.invalidate()
		}
	}
	p.stops = nil
	p.stopping = false
	return nil
}

// seizeThread seizes thread tid of process pid. It reports false for a
// thread that is not to be added: gone meanwhile, or an exited main
// thread whose process lives on; and an error for one traced by another
// tracer.
func (p *Process) seizeThread(pid, tid int) (bool, error) {
	err := p.c.ptrace(unix.PTRACE_SEIZE, tid, 0, seizeOptions)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ESRCH):
		return false, nil // exited meanwhile
	case errors.Is(err, unix.EPERM):
		tp := tracerTid(pid, tid)
		if tp == unix.Gettid() && p.owner.tids[tid] == nil {
			return true, nil // auto-attached child of a seized thread
		}
		if tp > 0 {
			tp = tgidOf(tp)
			return false, fmt.Errorf("attach %d: already traced by process %d%s", pid, tp, commOf(tp))
		}
		if zombie(pid, tid) {
			return false, nil // an exited main thread whose process lives on
		}
		return false, fmt.Errorf("attach %d: %w", pid, err)
	}
	return false, fmt.Errorf("attach %d: thread %d: %w", pid, tid, err)
}

// tasks lists the thread ids of a process.
func tasks(pid int) ([]int, error) {
	d, err := os.Open(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err == nil {
			tids = append(tids, tid)
		}
	}
	// Main thread first, then by tid (creation order, but for recycled
	// ids).
	slices.SortFunc(tids, func(a, b int) int {
		switch {
		case a == b:
			return 0
		case a == pid:
			return -1
		case b == pid:
			return 1
		}
		return a - b
	})
	return tids, nil
}

// tracerTid returns the tracer of thread tid (/proc status TracerPid,
// which names the tracer's thread, not its process), 0 for none or when
// the thread is gone.
func tracerTid(pid, tid int) int {
	st, _ := procfs.ReadTaskStatus(pid, tid)
	n, _ := st.Int("TracerPid")
	return n
}

// tgidOf returns the process of thread tid.
func tgidOf(tid int) int {
	st, _ := procfs.ReadStatus(tid)
	if g, ok := st.Int("Tgid"); ok && g > 0 {
		return g
	}
	return tid
}

// zombie says whether thread tid has exited and waits to be reaped.
func zombie(pid, tid int) bool {
	st, _ := procfs.ReadTaskStatus(pid, tid)
	state, _ := st.Field("State")
	return strings.HasPrefix(state, "Z")
}

func commOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return " (" + strings.TrimSpace(string(b)) + ")"
}
