package server

import (
	"errors"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
)

// Breakpoints and watchpoints. Software breakpoints (Z0) are the
// process's: one int3 per address, owned by every client that inserted it
// (process.breaks), written when the process resumes. Hardware
// breakpoints and watchpoints (Z1-Z4) are the process's debugpoints.Set:
// it cuts each request into pieces, has the arbiter decide which pieces
// hold the debug-register slots, notes z packets until the next resume,
// plans what the target must hold and judges a stop's hits. What is left
// here is the glue: a client's packets in, the notices of each commit
// out (tell), the plan given to the target at a resume
// (prepareDebugRegisters, process.apply).

// insertPoint serves Z. Nothing touches memory or debug registers here:
// the wanted set is applied when the process next resumes, so gdb's
// remove-all/insert-all at every stop costs nothing. A hardware point is
// decided at once, and its changes (and others', evicted for it) told
// before the reply, so that a refusal comes back on this Z.
func (c *client) insertPoint(r *rsp.InsertBreakpoint) {
	s := c.s
	p := c.process()
	if p == nil {
		return
	}
	if !s.offer.servesPoint(r.Type) {
		c.replyEmpty()
		return
	}
	if r.Type == rsp.SoftwareBreakpoint {
		b := p.breaks[r.Addr]
		if b == nil {
			// Check now that the address can be patched, so that a bad
			// address fails here and not at the next resume.
			var probe [1]byte
			if n, _ := p.t.ReadMemory(r.Addr, probe[:]); n != 1 {
				c.replyError(rsp.CodeBadAddress)
				return
			}
			b = &swBreak{owners: map[*client]bool{}}
			p.breaks[r.Addr] = b
		}
		b.owners[c] = true
		p.agent.set(p, c, r)
		nonStop{s}.applyNow(p)
		c.replyOK()
		return
	}
	req, _ := request(r.Type, r.Addr, r.Kind)
	changes, err := p.dp.Insert(c.id, c.ownerConfig(), req)
	s.tell(p, changes)
	if err != nil {
		code, logged := insertError(err)
		if logged {
			s.log.printf("client #%d: %v", c.id, err)
		} else {
			s.log.debugf("client #%d: %v", c.id, err)
		}
		c.replyError(code)
		return
	}
	p.agent.set(p, c, r)
	nonStop{s}.applyNow(p)
	c.replyOK()
}

// insertError picks the E reply of a refused Z1-Z4, and whether the
// refusal is worth a line on the server's log (a client's limit reached)
// or only with --debug.
func insertError(err error) (code rsp.ErrorCode, logged bool) {
	switch {
	case errors.Is(err, debugpoints.ErrTooLong):
		return rsp.CodeInvalid, true
	case errors.Is(err, debugpoints.ErrLimit):
		return rsp.CodeNoSpace, true
	case errors.Is(err, debugpoints.ErrRefused):
		return rsp.CodeNotPermitted, false
	}
	return rsp.CodeInvalid, false
}

// removePoint serves z: a software breakpoint loses this owner, a
// hardware point's removal waits for the next resume.
func (c *client) removePoint(r *rsp.RemoveBreakpoint) {
	p := c.process()
	if p == nil {
		return
	}
	if !c.s.offer.servesPoint(r.Type) {
		c.replyEmpty()
		return
	}
	if r.Type == rsp.SoftwareBreakpoint {
		if b := p.breaks[r.Addr]; b != nil {
			delete(b.owners, c)
			delete(b.code, c)
		}
		nonStop{c.s}.applyNow(p)
		c.replyOK()
		return
	}
	req, _ := request(r.Type, r.Addr, r.Kind)
	p.dp.Remove(c.id, req)
	if r.Type == rsp.HardwareBreakpoint {
		p.agent.dropHardware(c, r.Addr)
	}
	nonStop{c.s}.applyNow(p)
	c.replyOK()
}

// request makes the hwbp request of a Z or z packet.
func request(t rsp.BreakpointType, addr, kind uint64) (hwbp.Request, bool) {
	var k hwbp.Kind
	switch t {
	case rsp.HardwareBreakpoint:
		k = hwbp.KindExecute
	case rsp.WriteWatchpoint:
		k = hwbp.KindWrite
	case rsp.ReadWatchpoint:
		k = hwbp.KindRead
	case rsp.AccessWatchpoint:
		k = hwbp.KindAccess
	default:
		return hwbp.Request{}, false
	}
	n := kind
	if k == hwbp.KindExecute {
		n = 1 // gdb sends the breakpoint kind (1 on x86), not a length
	}
	return hwbp.Request{Kind: k, Addr: addr, Len: n}, true
}

// ownerConfig is what the arbiter knows of a client.
func (c *client) ownerConfig() arbiter.OwnerConfig {
	return arbiter.OwnerConfig{Priority: c.priority, Policy: c.policy, Pinned: c.pinned}
}

// applyOwner gives the debugpoints a client's new priority, policy or
// pinning and re-plans at once: other clients hear of evictions now.
func (c *client) applyOwner() {
	s := c.s
	for _, p := range s.procs {
		s.tell(p, p.dp.SetOwner(c.id, c.ownerConfig()))
		s.replanIfRunning(p)
	}
}

// tell handles the changes of a commit: for each, --debug output, a line
// of the event log, and the notice for its owner (kept for `monitor
// events`).
func (s *Server) tell(p *process, changes []debugpoints.Change) {
	for _, ch := range changes {
		s.log.debugf("debugpoint %v of client #%d (pair %v): %v -> %v (%v)", ch.Key, ch.Owner.Client, ch.Owner.Pair, ch.Old, ch.New, ch.Cause)
		point := p.pointName(ch.Key)
		c := s.clients.byID(ch.Owner.Client)
		peer := ""
		if c != nil {
			peer = c.peer
		}
		s.events.change(ch, point, peer)
		text := noticeText(ch, point)
		if text == "" {
			continue
		}
		s.recent = append(s.recent, recentNotice{at: time.Now(), client: ch.Owner.Client, text: text})
		if len(s.recent) > maxRecentNotices {
			s.recent = append(s.recent[:0], s.recent[len(s.recent)-maxRecentNotices:]...)
		}
		if c != nil {
			c.notify(text)
		}
	}
}

// prepareDebugRegisters plans the debugpoints for the next resume, tells
// the commit's changes, and gives the target the plan: the
// debug-register image, the emulated watchpoints, syscall-exit stops.
func (s *Server) prepareDebugRegisters(p *process) error {
	if p.hw == nil {
		return nil
	}
	plan, changes, err := p.dp.Plan(time.Now())
	s.tell(p, changes)
	if err != nil {
		return err
	}
	if err := p.apply(plan); err != nil {
		return err
	}
	p.dp.Applied(plan, p.t)
	return nil
}

// replanIfRunning brings a running process to a changed plan (a client
// left, and its slots can go to others' points): the process is stopped,
// which no client is told of, and settle resumes it with the new image.
func (s *Server) replanIfRunning(p *process) {
	if !p.running {
		return
	}
	if !p.dp.Changed() && !p.breaksChanged() {
		return
	}
	if s.nonStop {
		nonStop{s}.applyNow(p) // no stop needed
		return
	}
	p.interrupt()
}

// watchReason is the stop-reply key for a hit of a kind.
func watchReason(k hwbp.Kind) rsp.StopReason {
	switch k {
	case hwbp.KindWrite:
		return rsp.ReasonWatch
	case hwbp.KindRead:
		return rsp.ReasonReadWatch
	case hwbp.KindAccess:
		return rsp.ReasonAccessWatch
	}
	return rsp.ReasonHardwareBreak
}
