package server

// The qXfer objects the process adapter serves (GDB manual, "General
// Query Packets", qXfer): target.xml, the auxiliary vector, the program's
// path, the library list, the thread list, a stop's siginfo.

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// threadName is a thread's name, or "" when the target cannot tell.
func (p *process) threadName(tid target.Tid) string {
	if p.thInfo == nil {
		return ""
	}
	name, _ := p.thInfo.ThreadName(tid)
	return name
}

// readXfer serves qXfer reads. Every object is built once per stop and
// served in pieces.
func (p *process) readXfer(c *client, r *rsp.ReadXfer) {
	var obj []byte
	switch r.Object {
	case rsp.XferFeatures:
		if r.Annex != "target.xml" {
			c.replyError(rsp.CodeNoEntry)
			return
		}
		obj = p.xml
		if c.lldb != nil {
			obj = c.lldb.targetXML(p.desc)
		}
	case rsp.XferAuxv:
		if !p.serves.auxv {
			c.replyEmpty()
			return
		}
		b, err := p.auxvR.Auxv()
		if err != nil {
			c.replyError(rsp.CodeIO)
			return
		}
		obj = b
	case rsp.XferExecFile:
		if r.Annex != "" {
			if pid, err := strconv.ParseInt(r.Annex, 16, 64); err != nil || int(pid) != p.pid {
				c.replyError(rsp.CodeNoProcess)
				return
			}
		}
		obj = []byte(p.execName())
	case rsp.XferLibrariesSVR4:
		if p.libsDoc == nil || r.Offset == 0 {
			if !p.serves.libraries {
				c.replyEmpty()
				return
			}
			list, err := p.libs.Libraries()
			if err != nil {
				p.log.debugf("libraries-svr4: %v", err)
				c.replyError(rsp.CodeIO)
				return
			}
			p.libsDoc = librariesSVR4(list)
		}
		obj = p.libsDoc
		if c.lldb != nil {
			obj = lldbLibraries(obj)
		}
	case rsp.XferThreads:
		if !c.s.offer.threadsXfer {
			c.replyEmpty()
			return
		}
		if c.threadsDoc == nil || r.Offset == 0 {
			c.threadsDoc = c.threadsXML()
		}
		obj = c.threadsDoc
	case rsp.XferSiginfo:
		tid, _ := p.tidOf(c.gThread)
		info := p.siginfo(tid)
		if info == nil {
			c.replyError(rsp.CodeNoEntry)
			return
		}
		obj = info
	default:
		c.replyEmpty()
		return
	}
	// A reply carries at most Length bytes and fits the packet size
	// once escaped.
	piece, last := rsp.XferPiece(obj, r.Offset, r.Length)
	if n := rsp.EscapedFit(piece, PacketSize-1); n < len(piece) {
		piece, last = piece[:n], false
	}
	c.reply(rsp.AppendXferReply(c.scratch(), piece, last))
}

// threadsXML is the qXfer:threads document of the processes the client
// sees, with each thread's core and name, as gdbserver writes it.
func (c *client) threadsXML() []byte {
	var b bytes.Buffer
	b.WriteString("<threads>\n")
	for _, p := range listed(c) {
		refreshThreads(p)
		names := p.threadNames()
		for _, t := range p.threads {
			fmt.Fprintf(&b, "<thread id=\"%s\"", c.threadID(p, t))
			if p.thInfo != nil {
				if core, ok := p.thInfo.ThreadCore(t); ok {
					fmt.Fprintf(&b, " core=\"%d\"", core)
				}
			}
			if name := names[t]; name != "" {
				fmt.Fprintf(&b, " name=\"%s\"", esc(name))
			}
			b.WriteString("/>\n")
		}
	}
	b.WriteString("</threads>\n")
	return b.Bytes()
}

// namesMaxAge bounds how stale a cached thread name may be.
const namesMaxAge = time.Second

// threadNames returns the names of the threads at the last stop, as the
// target tells them, cached.
func (p *process) threadNames() map[target.Tid]string {
	if p.names == nil || time.Since(p.namesTime) > namesMaxAge {
		p.names = map[target.Tid]string{}
		p.namesTime = time.Now()
	}
	live := make(map[target.Tid]bool, len(p.threads))
	for _, t := range p.threads {
		live[t] = true
		if _, ok := p.names[t]; !ok {
			p.names[t] = p.threadName(t)
		}
	}
	for t := range p.names {
		if !live[t] {
			delete(p.names, t)
		}
	}
	return p.names
}

// siginfo is the siginfo of a thread's last stop, if it had one.
func (p *process) siginfo(tid target.Tid) []byte {
	if st := p.lastStop; st != nil && st.tid == tid && len(st.info) > 0 {
		return st.info
	}
	return p.pending.siginfo(tid)
}
