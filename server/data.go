package server

import (
	"errors"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// The process adapter's register and memory packets: g, G, p, P, m, M
// and X, of the thread the client selected (Hg).

// registers returns the register file of the client's thread (Hg), in
// target description order, and the thread.
func (p *process) registers(c *client) ([]byte, target.Tid, rsp.ErrorCode, bool) {
	tid, ok := p.tidOf(c.gThread)
	if !ok {
		return nil, 0, rsp.CodeNoProcess, false
	}
	if len(p.regBuf) != p.desc.Size() {
		p.regBuf = make([]byte, p.desc.Size())
	}
	if err := p.t.ReadRegisters(tid, p.regBuf); err != nil {
		return nil, 0, errorCode(err), false
	}
	return p.regBuf, tid, 0, true
}

// readRegisters answers g: every register, as hex.
func (p *process) readRegisters(c *client) {
	buf, _, code, ok := p.registers(c)
	if !ok {
		c.replyError(code)
		return
	}
	c.reply(rsp.AppendHex(c.scratch(), buf))
}

// writeRegisters serves G: the whole register file.
func (p *process) writeRegisters(c *client, r *rsp.WriteRegisters) {
	buf, tid, code, ok := p.registers(c)
	if !ok {
		c.replyError(code)
		return
	}
	if len(r.Data) != len(buf) {
		c.replyError(rsp.CodeInvalid)
		return
	}
	if err := p.t.WriteRegisters(tid, r.Data); err != nil {
		c.replyError(errorCode(err))
		return
	}
	c.replyOK()
}

// register finds register n of the description.
func (p *process) register(n rsp.RegNum) (target.Register, bool) {
	regs := p.desc.Registers()
	if int(n) >= len(regs) {
		return target.Register{}, false
	}
	return regs[n], true
}

// readRegister answers p n.
func (p *process) readRegister(c *client, r *rsp.ReadRegister) {
	buf, _, code, ok := p.registers(c)
	if !ok {
		c.replyError(code)
		return
	}
	reg, ok := p.register(r.Reg)
	if !ok {
		c.replyError(rsp.CodeNoEntry)
		return
	}
	c.reply(rsp.AppendHex(c.scratch(), buf[reg.Offset:reg.Offset+reg.Bits/8]))
}

// writeRegister serves P n=value.
func (p *process) writeRegister(c *client, r *rsp.WriteRegister) {
	buf, tid, code, ok := p.registers(c)
	if !ok {
		c.replyError(code)
		return
	}
	reg, ok := p.register(r.Reg)
	if !ok {
		c.replyError(rsp.CodeNoEntry)
		return
	}
	if len(r.Value) != reg.Bits/8 {
		c.replyError(rsp.CodeInvalid)
		return
	}
	copy(buf[reg.Offset:], r.Value)
	if err := p.t.WriteRegisters(tid, buf); err != nil {
		c.replyError(errorCode(err))
		return
	}
	c.replyOK()
}

// maxMemoryReply is the most bytes one m reply carries: two hex digits per
// byte within the packet size.
const maxMemoryReply = (PacketSize - 1) / 2

// readMemory answers m addr,length: as many bytes as could be read (gdb
// accepts a short reply), or an error when none could.
func (p *process) readMemory(c *client, r *rsp.ReadMemory) {
	n := min(r.Length, maxMemoryReply)
	if cap(p.memBuf) < n {
		p.memBuf = make([]byte, n)
	}
	buf := p.memBuf[:n]
	got, err := p.t.ReadMemory(r.Addr, buf)
	if got == 0 && n > 0 {
		if err != nil {
			p.log.debugf("read memory %#x,%d: %v", r.Addr, n, err)
		}
		c.replyError(rsp.CodeBadAddress)
		return
	}
	c.reply(rsp.AppendHex(c.scratch(), buf[:got]))
}

// writeMemory serves M and X.
func (p *process) writeMemory(c *client, r *rsp.WriteMemory) {
	if len(r.Data) == 0 {
		c.replyOK() // gdb probes X support with an empty write
		return
	}
	n, err := p.t.WriteMemory(r.Addr, r.Data)
	if n < len(r.Data) {
		p.log.debugf("write memory %#x,%d: wrote %d: %v", r.Addr, len(r.Data), n, err)
		c.replyError(rsp.CodeBadAddress)
		return
	}
	p.libsDoc = nil
	c.replyOK()
}

// errorCode picks the E reply for a target error.
func errorCode(err error) rsp.ErrorCode {
	switch {
	case errors.Is(err, target.ErrNoThread), errors.Is(err, target.ErrExited):
		return rsp.CodeNoProcess
	case errors.Is(err, target.ErrRunning):
		return rsp.CodeTryAgain
	}
	return rsp.CodeIO
}
