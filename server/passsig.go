package server

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gdbserverx/target"
)

// Signals passed to the program without a stop. A signal is passed when
// the server's user asked for it (--pass-signals) or when every client
// debugging the program passes it (QPassSignals: gdb sends its `handle
// ... nostop noprint pass` signals, SIGURG and SIGCHLD among them). The
// target then delivers it during the run, in the thread that receives
// it, without stopping the world (target.SignalPasser): nobody is told,
// nothing makes a round trip. One that comes anyway (while the world
// stops for another reason, or in a thread being stepped) is held, and
// delivered when that thread next continues (all-stop; in non-stop mode
// it is told as any signal).
//
// Why the server's own list: a Go program's runtime preempts a goroutine
// by sending its thread SIGURG, and sends the next one as soon as the
// last is handled. Delve stops at each (it sends no QPassSignals), and
// passes each with a round trip that stops every thread; the program
// crawls, and with the wrong timing never gets past one instruction
// (issue 19: 171,385 stops at one pc). --pass-signals SIGURG takes those
// round trips away.

// passState is a process's passing of signals. Owned by the core loop.
type passState struct {
	passer  target.SignalPasser // nil: the target cannot pass
	applied uint64              // the set the target has (bit n-1: Linux signal n)
	// held are signals of the set that stopped a thread anyway, to
	// deliver at its next continue.
	held map[target.Tid]target.Signal
	// streak counts the stops in a row for one signal of one thread (not
	// passed), for the hint of noteStorm.
	streak    int
	streakTid target.Tid
	streakSig target.Signal
	hinted    bool
}

// stormStops is how many stops in a row for one signal of one thread make
// the server suggest --pass-signals, once per process. A Go program's
// preemption storm makes thousands; a program's own signals, rarely this
// many back to back.
const stormStops = 1000

func sigBit(s target.Signal) uint64 {
	if s < 1 || s > 64 {
		return 0
	}
	return 1 << (s - 1)
}

// passSetOf is the set of signals passed now: the server's, and those
// every client debugging the program passes (idle clients do not count).
func passSetOf(server []target.Signal, debugging []*client) uint64 {
	var set uint64
	for _, sig := range server {
		set |= sigBit(sig)
	}
	common, any := ^uint64(0), false
	for _, c := range debugging {
		if c.state == clientIdle || c.state == clientGone {
			continue
		}
		any = true
		var mine uint64
		for g, on := range c.pass {
			if sig, ok := linuxSignal(g); ok && on {
				mine |= sigBit(sig)
			}
		}
		common &= mine
	}
	if any {
		set |= common
	}
	return set
}

// apply gives the target the set of passed signals before the process
// resumes, when it changed, and forgets held signals of threads that are
// gone (threads: those of the last stop).
func (ps *passState) apply(set uint64, threads []target.Tid, log *logger) {
	for tid := range ps.held {
		if !slices.Contains(threads, tid) {
			delete(ps.held, tid)
		}
	}
	if ps.passer == nil || set == ps.applied {
		return
	}
	var sigs []target.Signal
	for n := target.Signal(1); n <= 64; n++ {
		if set&sigBit(n) != 0 {
			sigs = append(sigs, n)
		}
	}
	if err := ps.passer.PassSignals(sigs); err != nil {
		log.printf("cannot pass signals %v: %v", sigs, err)
		return
	}
	log.debugf("passing signals %v", sigs)
	ps.applied = set
}

// hold takes a signal stop of a passed signal out of the stops to tell:
// it is held for the thread's next continue.
func (ps *passState) hold(ts *target.ThreadStop) bool {
	if ts.Reason != target.StopSignal || ps.applied&sigBit(ts.Signal) == 0 {
		return false
	}
	if ps.held == nil {
		ps.held = map[target.Tid]target.Signal{}
	}
	ps.held[ts.Tid] = ts.Signal
	return true
}

// withHeld is the signal a thread resumes with: the one its clients give,
// else, when it continues, the passed signal held for it.
func (ps *passState) withHeld(tid target.Tid, kind target.ResumeKind, sig target.Signal) target.Signal {
	if sig != 0 || kind != target.Continue {
		return sig
	}
	if held, ok := ps.held[tid]; ok {
		delete(ps.held, tid)
		return held
	}
	return 0
}

// heldActions continue the threads that hold a passed signal with it, for
// a program that runs on with no client (resumeOrphan).
func (ps *passState) heldActions() []target.Action {
	var out []target.Action
	for tid, sig := range ps.held {
		out = append(out, target.Action{Tid: tid, Kind: target.Continue, Signal: sig})
		delete(ps.held, tid)
	}
	return out
}

// noteStorm counts the stops for one signal of one thread in a row and,
// at stormStops, says on the server's log how to pass the signal: a
// client that passes each one back keeps the program crawling, and may
// never let its thread past one instruction.
func (ps *passState) noteStorm(ev target.Event, log *logger) {
	if ev.Kind != target.EventStopped || len(ev.Stops) != 1 || ev.Stops[0].Reason != target.StopSignal ||
		ps.applied&sigBit(ev.Stops[0].Signal) != 0 {
		ps.streak = 0
		return
	}
	ts := ev.Stops[0]
	if ps.streak > 0 && ts.Tid == ps.streakTid && ts.Signal == ps.streakSig {
		ps.streak++
	} else {
		ps.streak, ps.streakTid, ps.streakSig = 1, ts.Tid, ts.Signal
	}
	if ps.streak == stormStops && !ps.hinted {
		ps.hinted = true
		name := gdbSignal(ts.Signal).String()
		log.printf("Thread %d stopped for %s %d times in a row: if the client passes each one back (Delve passes every SIGURG of a Go program), the program crawls; run gdbserverx with --pass-signals %s to deliver it without a stop", ts.Tid, name, stormStops, name)
	}
}

// ParseSignals reads a list of Linux signals for --pass-signals: names
// with or without SIG (SIGURG, urg) or numbers, separated by commas.
func ParseSignals(list string) ([]target.Signal, error) {
	var out []target.Signal
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if n, err := strconv.Atoi(f); err == nil {
			if n < 1 || n > 64 {
				return nil, fmt.Errorf("signal %d: want 1 to 64", n)
			}
			out = append(out, target.Signal(n))
			continue
		}
		name := strings.ToUpper(f)
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		sig, ok := signalByName(name)
		if !ok {
			return nil, fmt.Errorf("unknown signal %q", f)
		}
		out = append(out, sig)
	}
	for _, sig := range out {
		switch sig {
		case target.SIGTRAP, target.SIGSTOP, target.SIGKILL:
			return nil, fmt.Errorf("signal %d cannot be passed: the debugger needs it", sig)
		}
	}
	slices.Sort(out)
	return out, nil
}

// signalByName finds a Linux signal by its name (SIGURG), through GDB's
// names, which are Linux's for the signals Linux has.
func signalByName(name string) (target.Signal, bool) {
	for n := target.Signal(1); n < 32; n++ {
		if gdbSignal(n).String() == name {
			return n, true
		}
	}
	return 0, false
}

// applyPassSignals gives process p's target the signals passed now,
// before p resumes.
func applyPassSignals(s *Server, p *process) {
	p.pass.apply(passSetOf(s.cfg.PassSignals, p.fk.knowing(s.clients.connected())), p.threads, s.log)
}
