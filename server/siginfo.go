package server

import (
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// writeSiginfo serves qXfer writes (GDB manual, "General Query Packets",
// qXfer): the siginfo of the selected thread's stop, which gdb writes
// for `set $_siginfo...` before it resumes with the signal. No other
// object is written.
func writeSiginfo(c *client, p *process, r *rsp.WriteXfer) {
	if r.Object != rsp.XferSiginfo || p.sigInfo == nil {
		c.replyEmpty()
		return
	}
	tid, _ := p.tidOf(c.gThread)
	info := p.siginfo(tid)
	switch {
	case info == nil:
		c.replyError(rsp.CodeNoEntry) // no stop of that thread had a siginfo
		return
	case r.Offset >= uint64(len(info)):
		c.replyError(rsp.CodeInvalid)
		return
	}
	// The kernel gets the whole siginfo with the bytes changed; the
	// server's copy, which qXfer:siginfo:read serves, changes only once
	// it has.
	updated := append(make([]byte, 0, target.SigInfoSize), info...)
	n := copy(updated[r.Offset:], r.Data)
	if err := p.sigInfo.SetSigInfo(tid, updated); err != nil {
		p.log.debugf("siginfo of thread %d: %v", tid, err)
		c.replyError(rsp.CodeIO)
		return
	}
	copy(info, updated)
	c.reply(rsp.AppendUint(c.scratch(), uint64(n)))
}
