package server

import (
	"gdbserverx/rsp"
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
	switch r.Type {
	case rsp.SoftwareBreakpoint:
		if p.bps == nil {
			c.replyEmpty()
			return
		}
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
	case rsp.HardwareBreakpoint, rsp.WriteWatchpoint, rsp.ReadWatchpoint, rsp.AccessWatchpoint:
		s.insertHardware(c, r)
	default:
		c.replyEmpty()
	}
}

// removePoint serves z.
func (s *Server) removePoint(c *client, r *rsp.RemoveBreakpoint) {
	p := s.proc
	if p == nil {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	switch r.Type {
	case rsp.SoftwareBreakpoint:
		if p.bps == nil {
			c.replyEmpty()
			return
		}
		if b := p.breaks[r.Addr]; b != nil {
			delete(b.owners, c)
		}
		c.replyOK()
	case rsp.HardwareBreakpoint, rsp.WriteWatchpoint, rsp.ReadWatchpoint, rsp.AccessWatchpoint:
		s.removeHardware(c, r)
	default:
		c.replyEmpty()
	}
}
