package server

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// supported answers qSupported with what this server and its target can
// do: computed from the capability set, never typed by hand per target.
func (s *Server) supported(c *client, q *rsp.QuerySupported) {
	c.multiprocess = q.Supports("multiprocess")
	c.swbreak = q.Supports("swbreak")
	c.hwbreak = q.Supports("hwbreak")
	c.execEvents = q.Supports("exec-events")
	f := []rsp.Feature{
		{Name: "PacketSize", State: rsp.FeatureValue, Value: strconv.FormatInt(PacketSize, 16)},
		{Name: "QPassSignals", State: rsp.FeatureSupported},
		{Name: "QProgramSignals", State: rsp.FeatureSupported},
		{Name: "QStartupWithShell", State: rsp.FeatureSupported},
		{Name: "QEnvironmentHexEncoded", State: rsp.FeatureSupported},
		{Name: "QEnvironmentReset", State: rsp.FeatureSupported},
		{Name: "QEnvironmentUnset", State: rsp.FeatureSupported},
		{Name: "QSetWorkingDir", State: rsp.FeatureSupported},
		{Name: "QDisableRandomization", State: rsp.FeatureSupported},
		{Name: "qXfer:features:read", State: rsp.FeatureSupported},
		{Name: "qXfer:auxv:read", State: rsp.FeatureSupported},
		{Name: "qXfer:exec-file:read", State: rsp.FeatureSupported},
		{Name: "qXfer:libraries-svr4:read", State: rsp.FeatureSupported},
		{Name: "qXfer:siginfo:read", State: rsp.FeatureSupported},
		{Name: "QStartNoAckMode", State: rsp.FeatureSupported},
		{Name: "vContSupported", State: rsp.FeatureSupported},
	}
	if !s.cfg.DisabledPackets["threads"] {
		f = append(f, rsp.Feature{Name: "qXfer:threads:read", State: rsp.FeatureSupported})
	}
	for _, opt := range []struct {
		name string
		on   bool
	}{{"multiprocess", c.multiprocess}, {"swbreak", c.swbreak}, {"hwbreak", c.hwbreak}, {"exec-events", c.execEvents}} {
		if opt.on {
			f = append(f, rsp.Feature{Name: opt.name, State: rsp.FeatureSupported})
		}
	}
	c.reply(rsp.AppendSupported(c.scratch(), f))
}

// haltReason answers '?': the last stop, W00 when there is no process (as
// gdbserver in --multi does), or how the last process ended.
func (s *Server) haltReason(c *client) {
	p := s.proc
	if p == nil {
		r := rsp.StopReply{Kind: rsp.StopExited}
		if s.lastExit != nil && !s.cfg.Multi {
			r = *s.lastExit
		}
		c.reply(r.AppendPayload(c.scratch()))
		return
	}
	sig := target.SIGTRAP
	if p.attached {
		sig = 0 // gdbserver reports an attached process with signal 0
	}
	tid := p.lastTid
	if st := p.lastStop; st != nil {
		sig, tid = st.signal, st.tid
	}
	if !p.has(tid) && len(p.threads) > 0 {
		tid = p.threads[0]
	}
	reply := rsp.StopReply{Kind: rsp.StopSignal, Signal: gdbSignal(sig)}
	s.appendThreadAndRegisters(c, &reply, tid)
	c.gThread = reply.Thread
	c.reply(reply.AppendPayload(c.scratch()))
}

// selectThread serves Hg and Hc.
func (s *Server) selectThread(c *client, r *rsp.SelectThread) {
	if r.Thread.Tid > 0 {
		if _, ok := s.tidOf(r.Thread); !ok {
			c.replyError(rsp.CodeNoProcess)
			return
		}
	}
	if r.For == rsp.PurposeResume {
		c.cThread = r.Thread
	} else {
		c.gThread = r.Thread
	}
	c.replyOK()
}

// currentThread answers qC.
func (s *Server) currentThread(c *client) {
	tid, ok := s.gtid(c)
	if !ok || s.cfg.DisabledPackets["qC"] {
		c.replyEmpty()
		return
	}
	c.reply(rsp.AppendCurrentThread(c.scratch(), c.threadID(s.proc, tid)))
}

// listThreads answers qfThreadInfo with every thread and qsThreadInfo with
// the end of the list.
func (s *Server) listThreads(c *client, r *rsp.ListThreads) {
	if s.cfg.DisabledPackets["qfThreadInfo"] {
		c.replyEmpty()
		return
	}
	if r.Subsequent || s.proc == nil {
		c.reply(rsp.AppendThreadList(c.scratch(), nil))
		return
	}
	ids := make([]rsp.ThreadID, 0, len(s.proc.threads))
	for _, t := range s.proc.threads {
		ids = append(ids, c.threadID(s.proc, t))
	}
	c.reply(rsp.AppendThreadList(c.scratch(), ids))
}

func (s *Server) threadAlive(c *client, r *rsp.QueryThreadAlive) {
	if _, ok := s.tidOf(r.Thread); ok && r.Thread.Tid > 0 {
		c.replyOK()
		return
	}
	c.replyError(rsp.CodeNoProcess)
}

// threadExtraInfo gives the thread's name, which gdb shows in `info
// threads`.
func (s *Server) threadExtraInfo(c *client, r *rsp.QueryThreadExtraInfo) {
	tid, ok := s.tidOf(r.Thread)
	if !ok {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	name := s.proc.threadName(tid)
	c.reply(rsp.AppendHex(c.scratch(), []byte(name)))
}

// threadName is a thread's name, or "" when the target cannot tell.
func (p *process) threadName(tid target.Tid) string {
	if p.thInfo == nil {
		return ""
	}
	name, _ := p.thInfo.ThreadName(tid)
	return name
}

// attached answers qAttached: 1 when the server attached to the process
// (gdb then detaches on quit), 0 when it started it (gdb kills it).
func (s *Server) attached(c *client, r *rsp.QueryAttached) {
	p := s.proc
	if p == nil || (r.HasPid && r.Pid != int64(p.pid)) {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	c.reply(rsp.AppendAttached(c.scratch(), p.attached || c.joined))
}

// readXfer serves qXfer reads. Every object is built once per stop and
// served in pieces.
func (s *Server) readXfer(c *client, r *rsp.ReadXfer) {
	p := s.proc
	if p == nil {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	var obj []byte
	switch r.Object {
	case rsp.XferFeatures:
		if r.Annex != "target.xml" {
			c.replyError(rsp.CodeNoEntry)
			return
		}
		obj = p.xml
	case rsp.XferAuxv:
		if p.auxvR == nil {
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
			if p.libs == nil {
				c.replyEmpty()
				return
			}
			list, err := p.libs.Libraries()
			if err != nil {
				s.debugf("libraries-svr4: %v", err)
				c.replyError(rsp.CodeIO)
				return
			}
			p.libsDoc = librariesSVR4(list)
		}
		obj = p.libsDoc
	case rsp.XferThreads:
		if s.cfg.DisabledPackets["threads"] {
			c.replyEmpty()
			return
		}
		if p.threadsDoc == nil || r.Offset == 0 {
			p.threadsDoc = s.threadsXML(c)
		}
		obj = p.threadsDoc
	case rsp.XferSiginfo:
		tid, _ := s.gtid(c)
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

// threadsXML is the qXfer:threads document, with each thread's core and
// name, as gdbserver writes it.
func (s *Server) threadsXML(c *client) []byte {
	p := s.proc
	var b bytes.Buffer
	b.WriteString("<threads>\n")
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
	for _, st := range p.pending {
		if st.tid == tid && len(st.info) > 0 {
			return st.info
		}
	}
	return nil
}
