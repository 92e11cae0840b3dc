package server

import (
	"errors"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/target"
)

// insertPoint serves Z. Software breakpoints (Z0) are shared: one int3 per
// address, owned by every client that inserted it. Nothing touches memory
// here: the wanted set is applied when the process next resumes, so gdb's
// remove-all/insert-all at every stop costs nothing.
func (s *Server) insertPoint(c *client, r *rsp.InsertBreakpoint) {
	p := s.proc
	if p == nil {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	if !s.features().servesPoint(r.Type) {
		c.replyEmpty()
		return
	}
	switch r.Type {
	case rsp.SoftwareBreakpoint:
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
		c.replyOK()
	default:
		s.insertHardware(c, r)
	}
}

// removePoint serves z.
func (s *Server) removePoint(c *client, r *rsp.RemoveBreakpoint) {
	p := s.proc
	if p == nil {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	if !s.features().servesPoint(r.Type) {
		c.replyEmpty()
		return
	}
	if r.Type == rsp.SoftwareBreakpoint {
		if b := p.breaks[r.Addr]; b != nil {
			delete(b.owners, c)
		}
		c.replyOK()
		return
	}
	req, _ := request(r.Type, r.Addr, r.Kind)
	p.dp.Remove(c.id, req)
	c.replyOK()
}

// Hardware breakpoints and watchpoints (Z1-Z4) are the process's
// debugpoints.Set: it cuts each request into pieces, has the arbiter
// decide which pieces hold the debug-register slots, notes z packets until
// the next resume, and judges a stop's hits. What is left here is the
// glue: the client behind an owner id, the notices, the target calls.

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

// insertHardware serves Z1-Z4: the debugpoint is decided at once, and its
// changes (and others', evicted for it) told before the reply.
func (s *Server) insertHardware(c *client, r *rsp.InsertBreakpoint) {
	p := s.proc
	req, _ := request(r.Type, r.Addr, r.Kind)
	changes, err := p.dp.Insert(c.id, c.ownerConfig(), req)
	s.tell(changes)
	if err != nil {
		c.replyError(s.insertError(c, err))
		return
	}
	c.replyOK()
}

// insertError logs a refused Z1-Z4 and picks its E reply.
func (s *Server) insertError(c *client, err error) rsp.ErrorCode {
	switch {
	case errors.Is(err, debugpoints.ErrTooLong):
		s.logf("client #%d: %v", c.id, err)
		return rsp.CodeInvalid
	case errors.Is(err, debugpoints.ErrLimit):
		s.logf("client #%d: %v", c.id, err)
		return rsp.CodeNoSpace
	case errors.Is(err, debugpoints.ErrRefused):
		s.debugf("client #%d: %v", c.id, err)
		return rsp.CodeNotPermitted
	}
	s.debugf("client #%d: %v", c.id, err)
	return rsp.CodeInvalid
}

// tell handles the changes of a commit: a notice for each owner, a line of
// the event log, --debug output.
func (s *Server) tell(changes []debugpoints.Change) {
	for _, ch := range changes {
		s.debugpointEvent(ch)
	}
}

// prepareDebugRegisters plans the debugpoints for the next resume and
// gives the target the plan: the debug-register image, the emulated
// watchpoints, syscall-exit stops.
func (s *Server) prepareDebugRegisters() error {
	p := s.proc
	if p.hw == nil {
		return nil
	}
	plan, changes, err := p.dp.Plan(time.Now())
	s.tell(changes)
	if err != nil {
		return err
	}
	if err := p.apply(plan); err != nil {
		return err
	}
	p.dp.Applied(plan, p.t)
	return nil
}

// apply gives the target a plan of the debugpoints.
func (p *process) apply(plan debugpoints.Plan) error {
	if plan.ImageChanged {
		if err := p.hw.SetDebugRegisters(target.DebugRegisters(plan.Image)); err != nil {
			return err
		}
	}
	if p.sw != nil {
		if err := p.sw.SetWatches(plan.Watches); err != nil {
			return err
		}
	}
	if p.sys != nil && plan.SyscallsChanged {
		return p.sys.TraceSyscalls(plan.SyscallExits)
	}
	return nil
}

// hitNotes makes the stop notes of hits, by client: several hits of one
// client are all kept, the first its stop reply, the others for its next
// resumes. Hits of clients that are gone are dropped.
func (s *Server) hitNotes(hits []debugpoints.Hit) map[*client][]stopNote {
	var out map[*client][]stopNote
	for _, h := range hits {
		c := s.clientByID(h.Client)
		if c == nil {
			continue
		}
		if out == nil {
			out = map[*client][]stopNote{}
		}
		out[c] = append(out[c], stopNote{reason: watchReason(h.Kind), addr: h.Addr})
	}
	return out
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

// clientByID finds a live client.
func (s *Server) clientByID(id int) *client {
	for _, c := range s.clients {
		if c.id == id && c.state != clientGone {
			return c
		}
	}
	return nil
}

// noSpace handles the kernel refusing a slot (ENOSPC: another perf user
// holds it): one slot less, re-plan, and try again in a while.
func (s *Server) noSpace() bool {
	n, ok := s.proc.dp.NoSpace(time.Now())
	if ok {
		s.logf("the kernel refused a debug-register slot (another perf user holds it); planning with %d", n)
	}
	return ok
}

// replanIfRunning brings a running process to a changed plan (a client
// left, and its slots can go to others' points): the process is stopped,
// which no client is told of, and settle resumes it with the new image.
func (s *Server) replanIfRunning() {
	p := s.proc
	if p == nil || !p.running {
		return
	}
	if !p.dp.Changed() && !p.breaksChanged() {
		return
	}
	p.interrupt()
}
