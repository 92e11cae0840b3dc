package linux

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// Non-stop mode (target.NonStop). In all-stop mode an event stops the
// world (run.go); in non-stop mode it stops its own thread and is queued
// at once, and the other threads go on. What all-stop gets from the
// stopped world is made here where it is needed:
//   - debug registers set while threads run are written into each running
//     thread after a PTRACE_INTERRUPT (refresh), and the thread restarted;
//   - the ThreadRunner calls (a step with a page open, a system call run
//     in the process: swwatch) stop the other threads around themselves
//     (pauseOthers), as gdbserver's stop_all_lwps does;
//   - a breakpoint removed while threads run may already have been hit:
//     that int3 is not a signal of the program's (memory.removedSince).

var _ target.NonStop = (*Process)(nil)

// pauser is the machinery of non-stop mode: a thread's own event, the
// stops asked for and the refreshes, and the pauses around the
// ThreadRunner calls; its state is the Process's and its threads'.
type pauser struct{ p *Process }

// SetNonStop turns non-stop mode on or off (see target.NonStop). Only
// while every thread is stopped.
func (p *Process) SetNonStop(on bool) error {
	if err := p.alive(); err != nil {
		return err
	}
	if !p.allStopped() {
		return fmt.Errorf("set non-stop mode: %w", target.ErrRunning)
	}
	if p.nonStop == on {
		return nil
	}
	p.nonStop = on
	// All-stop counts the world as stopped; non-stop looks at threads.
	p.worldStopped = !on
	return nil
}

// StopThreads asks running threads to stop (see target.NonStop). In
// all-stop mode it is Interrupt.
func (p *Process) StopThreads(tids []target.Tid) error {
	if err := p.alive(); err != nil {
		return err
	}
	if !p.nonStop {
		return p.Interrupt()
	}
	for _, th := range p.order {
		if th.gone || th.state == stopped || th.stopWanted || (len(tids) > 0 && !containsTid(tids, th.tid)) {
			continue
		}
		th.stopWanted = true
		if err := p.c.ptrace(unix.PTRACE_INTERRUPT, th.tid, 0, 0); err != nil {
			p.removeThread(th) // exiting: its status comes
		}
	}
	return nil
}

func containsTid(tids []target.Tid, tid int) bool {
	for _, t := range tids {
		if int(t) == tid {
			return true
		}
	}
	return false
}

// allStopped says whether every live thread is stopped.
func (p *Process) allStopped() bool {
	if !p.nonStop {
		return p.worldStopped
	}
	return p.nRunning+p.nListening == 0
}

// reportThread queues the event of one thread's stop (non-stop mode):
// its general registers fetched, as finishStop does for all-stop.
func (ps pauser) reportThread(st target.ThreadStop) {
	p := ps.p
	if th := p.threads[int(st.Tid)]; th != nil && p.loadGP(th) == nil {
		st.PC = th.regs.gp.Rip
	}
	p.queue = append(p.queue, target.Event{
		Kind:    target.EventStopped,
		Stops:   []target.ThreadStop{st},
		Threads: p.liveTids(),
	})
}

// onNonStopEventStop handles PTRACE_EVENT_STOP in non-stop mode: a stop
// StopThreads asked for (reported, unless a trap collected first is),
// a stop for a refresh of the debug registers (the thread goes on), or a
// group-stop or leftover trap (the thread goes on, as during any run).
func (ps pauser) onNonStopEventStop(th *thread) {
	p := ps.p
	switch {
	case th.stopWanted:
		th.stopWanted = false
		th.refresh = false
		p.collectTrap(th)
		if th.state == stopped {
			ps.reportThread(target.ThreadStop{Tid: target.Tid(th.tid), Reason: target.StopInterrupt, Signal: 0})
		}
	case th.refresh:
		th.refresh = false
		if err := p.applyDR(th); err != nil && !isGone(err) {
			// It cannot hold the image: it stays stopped, and says so.
			ps.reportThread(target.ThreadStop{Tid: target.Tid(th.tid), Reason: target.StopSignal})
			return
		}
		p.restart(th)
	default:
		p.restart(th)
	}
}

// refreshRunning brings the running threads to the debug-register image
// (non-stop mode): each is interrupted, written and restarted when it
// reports the interrupt (onNonStopEventStop).
func (ps pauser) refreshRunning() {
	p := ps.p
	for _, th := range p.order {
		if th.gone || th.state == stopped || th.refresh || th.dr == p.want {
			continue
		}
		th.refresh = true
		if err := p.c.ptrace(unix.PTRACE_INTERRUPT, th.tid, 0, 0); err != nil {
			p.removeThread(th)
		}
	}
}

// pauseOthers stops every running thread but th (non-stop mode), and
// returns a function that resumes them as they ran. It waits for their
// stops: a stop that is an event of a thread's own is queued as that
// thread's event (and the thread stays stopped); the others only paused.
// In all-stop mode the world is stopped already and it does nothing.
func (ps pauser) pauseOthers(th *thread) (resume func(), err error) {
	p := ps.p
	if !p.nonStop {
		return func() {}, nil
	}
	var paused []*thread
	for _, o := range p.order {
		if o == th || o.gone || o.state == stopped {
			continue
		}
		if err := p.c.ptrace(unix.PTRACE_INTERRUPT, o.tid, 0, 0); err != nil {
			p.removeThread(o)
			continue
		}
		o.pausing = true
		paused = append(paused, o)
	}
	for _, o := range paused {
		for o.pausing && !o.gone && !p.over {
			wpid, ws, err := p.c.wait4(o.tid, true)
			if err != nil {
				return func() {}, fmt.Errorf("pause thread %d: %w", o.tid, err)
			}
			p.dispatch(wpid, ws)
		}
	}
	return func() {
		for _, o := range paused {
			if !o.gone && o.paused {
				o.paused = false
				p.restart(o)
			}
		}
	}, nil
}

// pausedStop takes the PTRACE_EVENT_STOP of a thread pauseOthers asked to
// stop: it stays stopped, to be restarted when the pause ends.
func (ps pauser) pausedStop(th *thread) bool {
	p := ps.p
	if !th.pausing {
		return false
	}
	th.pausing = false
	th.paused = true
	p.collectTrap(th)
	return true
}

// errNotNonStop: the call needs non-stop mode.
var errNotNonStop = errors.New("not in non-stop mode")
