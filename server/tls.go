package server

import (
	"errors"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// tlsAddress answers qGetTLSAddr (GDB manual, "General Query Packets"):
// the address of a thread-local variable of a thread, from its process's
// target.TLSResolver. gdb sends it for `print tls_var`, with the
// variable's offset in its module's TLS block and the module's link
// map (the lm of the library list, main-lm for the program). gdb probes
// the packet rather than reading it in qSupported: a target without the
// capability gets the empty reply.
func tlsAddress(c *client, r *rsp.QueryTLSAddr) {
	p := c.procOf(r.Thread)
	switch {
	case p == nil:
		c.replyError(rsp.CodeNoProcess)
		return
	case p.tls == nil:
		c.replyEmpty()
		return
	}
	tid, ok := p.tidOf(r.Thread)
	if !ok {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	addr, err := p.tls.TLSAddress(tid, r.LinkMap, r.Offset)
	if err != nil {
		p.log.debugf("qGetTLSAddr: %v", err)
		code := rsp.CodeIO
		switch {
		case errors.Is(err, target.ErrTLSNotAllocated), errors.Is(err, target.ErrNoTLS):
			code = rsp.CodeNoEntry
		case errors.Is(err, target.ErrNoThread):
			code = rsp.CodeNoProcess
		}
		c.replyError(code)
		return
	}
	c.reply(rsp.AppendUint(c.scratch(), addr))
}
