package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/target"
)

// lldb's dialect. lldb, and Delve's gdbserial client (written against
// lldb-server and debugserver), speak gdb's protocol with lldb's
// extensions (lldb/docs/resources/lldbgdbremote.md) and read a few of
// gdb's answers differently. A client speaks lldb's dialect from its
// QListThreadsInStopReply or QThreadSuffixSupported on: lldb (14 to 16
// at least) and Delve send both right after the handshake, before they
// read target.xml or the library list, and gdb sends neither. Such a
// client is served as lldb-server serves it where the two readings
// differ:
//
//   - qXfer:libraries-svr4 without main-lm. gdb reads main-lm as the
//     address of the program's own link_map; lldb reads it as the
//     address where the pointer to struct r_debug is stored (what
//     qShlibInfoAddr would give), reads a garbage r_debug there and
//     loads no shared library: no breakpoint in libc, no frame past
//     main. Without it lldb finds r_debug through the DT_DEBUG entry of
//     the executable it loaded, as with lldb-server.
//   - target.xml in lldb's form (lldbTargetXML): register sets by name,
//     each register's offset in the g packet, DWARF numbers and roles.
//   - stop replies carry the thread's name, every thread and its pc, and
//     the reason in lldb's words (StopReply's lldb keys).
//   - a bare k is answered with the process's end (X09), which lldb and
//     Delve wait for, before the connection closes.
//
// And the dialect's own queries are served: qHostInfo, qShlibInfoAddr,
// qThreadStopInfo, jThreadsInfo, qMemoryRegionInfo and
// qWatchpointSupportInfo. jGetLoadedDynamicLibrariesInfos is not: it is
// how lldb's Darwin loader learns the libraries; on Linux lldb reads
// qXfer:libraries-svr4 and r_debug.
//
// Everything here is functions of the client and its process, and the
// methods of the dialect's own state (lldbDialect), so that the client
// and process types keep their size (internal/deps TestSizes).

// lldbDialect is what the server keeps for a client that speaks lldb's
// dialect. Owned by the core loop.
type lldbDialect struct {
	// told is the last stop reply the client was given (without its
	// registers and thread lists), which qThreadStopInfo and
	// jThreadsInfo give again for that thread.
	told    rsp.StopReply
	toldTid target.Tid
	// xml is target.xml in lldb's form, for the description xmlDesc.
	xml     []byte
	xmlDesc *target.Description
	// regs is the register file scratch of lldb's own reads (thread pcs,
	// jThreadsInfo): a stop reply's registers point into the process's.
	regs []byte
}

// lldbQuery serves the packets of lldb's dialect.
func lldbQuery(c *client, req rsp.Request) {
	switch r := req.(type) {
	case *rsp.ListThreadsInStopReply, *rsp.EnableThreadSuffix:
		if c.lldb == nil {
			c.lldb = &lldbDialect{}
			c.s.log.debugf("client #%d speaks lldb's dialect", c.id)
		}
		c.replyOK()
	case *rsp.QueryHostInfo:
		c.reply(rsp.AppendPairs(c.scratch(), hostInfo()...))
	case *rsp.QueryShlibInfoAddr:
		// As lldb-server: not known here. lldb then reads DT_DEBUG of
		// the executable it loaded (see main-lm above).
		c.replyEmpty()
	case *rsp.QueryWatchpointSupport:
		// The slots are four, but a client may hold this many hardware
		// watchpoints: those without a slot are emulated. lldb refuses
		// a watchpoint beyond the number given here.
		c.reply(rsp.AppendPairs(c.scratch(), rsp.Pair{Key: "num", Value: strconv.Itoa(debugpoints.MaxPoints)}))
	case *rsp.QueryMemoryRegion:
		if p := c.process(); p != nil {
			lldbMemoryRegion(c, p, r)
		}
	case *rsp.QueryThreadStopInfo:
		lldbThreadStopInfo(c, r)
	case *rsp.QueryThreadsInfo:
		if p := c.process(); p != nil {
			lldbThreadsInfo(c, p)
		}
	}
}

// selectSuffixThread makes the thread a packet's ThreadSuffix names
// (lldb's ";thread:ID;") the client's register thread, as Hg would: a
// client that uses the suffix sends it with every packet it applies to.
func selectSuffixThread(c *client, req rsp.Request) {
	if r, ok := req.(interface{ Suffix() (rsp.ThreadID, bool) }); ok {
		if t, ok := r.Suffix(); ok {
			c.gThread = t
		}
	}
}

// lldbStopKeys adds lldb's keys to a stop reply for a client that speaks
// lldb's dialect, and remembers what it was told. st is the stop told,
// nil for the stop of a process that has not run yet.
func lldbStopKeys(c *client, p *process, reply *rsp.StopReply, tid target.Tid, st *stop) {
	d := c.lldb
	if d == nil {
		return
	}
	reply.Name = p.threadNames()[tid]
	reply.Threads = reply.Threads[:0]
	reply.ThreadPCs = reply.ThreadPCs[:0]
	for _, t := range p.threads {
		pc, ok := d.threadPC(p, t)
		if !ok {
			// The list goes whole or not at all: lldb pairs each pc
			// with the thread in the same place.
			reply.Threads, reply.ThreadPCs = nil, nil
			break
		}
		reply.Threads = append(reply.Threads, int64(t))
		reply.ThreadPCs = append(reply.ThreadPCs, pc)
	}
	reply.Why = lldbReason(st, reply.Reason)
	d.told = *reply
	d.told.Registers, d.told.Threads, d.told.ThreadPCs = nil, nil, nil
	d.toldTid = tid
}

// lldbReason is a stop's reason in lldb-server's words. A watchpoint's is
// its watch key (lldb reads watch:ADDR as the watchpoint reason and finds
// its watchpoint by the address).
func lldbReason(st *stop, key rsp.StopReason) rsp.LLDBReason {
	if st == nil {
		return rsp.LLDBSignal
	}
	switch st.kind {
	case stopBreak:
		return rsp.LLDBBreakpoint
	case stopStep:
		return rsp.LLDBTrace
	case stopSignal, stopInterrupt:
		return rsp.LLDBSignal
	case stopExec:
		return rsp.LLDBExec
	case stopWatch:
		if key == rsp.ReasonHardwareBreak || key == rsp.ReasonNone {
			return rsp.LLDBBreakpoint
		}
	}
	return rsp.LLDBNone
}

// threadPC reads a thread's pc (rip), with its general registers only.
func (d *lldbDialect) threadPC(p *process, tid target.Tid) (uint64, bool) {
	rip, ok := p.desc.Lookup("rip")
	if !ok {
		return 0, false
	}
	b, ok := d.generalRegisters(p, tid)
	if !ok {
		return 0, false
	}
	return leUint(b[rip.Offset : rip.Offset+rip.Bits/8]), true
}

// generalRegisters reads a thread's register file, its general registers
// at least (the rest only when the target cannot read them alone), into
// d's scratch.
func (d *lldbDialect) generalRegisters(p *process, tid target.Tid) ([]byte, bool) {
	if len(d.regs) != p.desc.Size() {
		d.regs = make([]byte, p.desc.Size())
	}
	read := p.t.ReadRegisters
	if p.gpr != nil {
		read = p.gpr.ReadGeneralRegisters
	}
	if err := read(tid, d.regs); err != nil {
		return nil, false
	}
	return d.regs, true
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// lldbThreadStopInfo answers qThreadStopInfo: the stop reply the client
// was told, for its thread; T00 (no reason) for any other.
func lldbThreadStopInfo(c *client, r *rsp.QueryThreadStopInfo) {
	p := c.procOf(r.Thread)
	tid, ok := c.tid(r.Thread)
	if !ok || p == nil || r.Thread.Tid <= 0 {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	reply := rsp.StopReply{Kind: rsp.StopSignal}
	if d := c.lldb; d != nil && tid == d.toldTid && d.told.Kind == rsp.StopSignal {
		reply = d.told
	}
	p.appendThreadAndRegisters(c, &reply, tid)
	if c.lldb != nil {
		reply.Name = p.threadNames()[tid]
	}
	c.reply(reply.AppendPayload(c.scratch()))
}

// lldbThreadInfo is one thread of a jThreadsInfo reply, in lldb-server's
// keys: registers by their decimal number, values as hex bytes in target
// order; reason and signal only for the thread the client was told
// stopped.
type lldbThreadInfo struct {
	Tid         int               `json:"tid"`
	Name        string            `json:"name,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	Signal      int               `json:"signal,omitempty"`
	Description string            `json:"description,omitempty"`
	Registers   map[string]string `json:"registers,omitempty"`
}

// lldbThreadsInfo answers jThreadsInfo: every thread, its name, its
// expedited registers, and for the thread of the last stop the client
// was told, why it stopped. The JSON goes escaped ('}' is structural in
// JSON).
func lldbThreadsInfo(c *client, p *process) {
	d := c.lldb
	if d == nil {
		d = &lldbDialect{}
	}
	names := p.threadNames()
	regs := p.desc.Registers()
	infos := make([]lldbThreadInfo, 0, len(p.threads))
	for _, t := range p.threads {
		info := lldbThreadInfo{Tid: int(t), Name: names[t]}
		if buf, ok := d.generalRegisters(p, t); ok {
			info.Registers = map[string]string{}
			for _, n := range p.expedite() {
				r := regs[n]
				info.Registers[strconv.Itoa(r.Number)] = string(rsp.AppendHex(nil, buf[r.Offset:r.Offset+r.Bits/8]))
			}
		}
		if t == d.toldTid && d.told.Kind == rsp.StopSignal {
			info.Signal = int(d.told.Signal)
			info.Reason = string(d.told.Why)
			switch d.told.Reason {
			case rsp.ReasonWatch, rsp.ReasonReadWatch, rsp.ReasonAccessWatch:
				// lldb-server's description: the address, the
				// slot (lldb finds its watchpoint by the
				// address) and the address hit.
				info.Reason = "watchpoint"
				info.Description = fmt.Sprintf("%d %d %d", d.told.Addr, -1, d.told.Addr)
			}
		}
		infos = append(infos, info)
	}
	b, err := json.Marshal(infos)
	if err != nil {
		c.replyError(rsp.CodeIO)
		return
	}
	c.reply(rsp.AppendEscaped(c.scratch(), b))
}

// lldbMemoryRegion answers qMemoryRegionInfo from the target's mappings
// (target.MemoryRegionReader): "start:HEX;size:HEX;permissions:rwx;
// name:HEX;" for a mapping, the start and size alone for a gap.
func lldbMemoryRegion(c *client, p *process, r *rsp.QueryMemoryRegion) {
	if p.regions == nil {
		c.replyEmpty()
		return
	}
	reg, err := p.regions.MemoryRegion(r.Addr)
	if err != nil {
		p.log.debugf("qMemoryRegionInfo:%x: %v", r.Addr, err)
		c.replyError(errorCode(err))
		return
	}
	pairs := []rsp.Pair{{Key: "start", Value: strconv.FormatUint(reg.Start, 16)}, {Key: "size", Value: strconv.FormatUint(reg.Size, 16)}}
	if reg.Mapped {
		var perms strings.Builder
		for _, f := range []struct {
			on bool
			c  byte
		}{{reg.Read, 'r'}, {reg.Write, 'w'}, {reg.Execute, 'x'}} {
			if f.on {
				perms.WriteByte(f.c)
			}
		}
		pairs = append(pairs, rsp.Pair{Key: "permissions", Value: perms.String()})
		if reg.Name != "" {
			pairs = append(pairs, rsp.Pair{Key: "name", Value: hexString(reg.Name)})
		}
	}
	c.reply(rsp.AppendPairs(c.scratch(), pairs...))
}

// lldbLibraries is the qXfer:libraries-svr4 document for a client that
// speaks lldb's dialect: doc without its main-lm attribute (see the
// dialect's rule above).
func lldbLibraries(doc []byte) []byte {
	const attr = ` main-lm="`
	i := bytes.Index(doc, []byte(attr))
	if i < 0 {
		return doc
	}
	end := bytes.IndexByte(doc[i+len(attr):], '"')
	if end < 0 {
		return doc
	}
	out := make([]byte, 0, len(doc))
	out = append(out, doc[:i]...)
	return append(out, doc[i+len(attr)+end+1:]...)
}

// targetXML is target.xml in lldb's form for the process's description,
// built once per description.
func (d *lldbDialect) targetXML(desc *target.Description) []byte {
	if d.xmlDesc != desc {
		d.xml, d.xmlDesc = lldbTargetXML(desc), desc
	}
	return d.xml
}

// lldbTargetXML renders the register table as lldb-server does: one
// feature, each register with its g-packet offset, encoding, format, its
// register set as its group (lldb's `register read` shows a set at a
// time), DWARF and eh_frame numbers and its generic role. Numbers are the
// same as in gdb's target.xml and the p packets.
func lldbTargetXML(d *target.Description) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\"?>\n<target version=\"1.0\">\n  <architecture>x86_64</architecture>\n  <feature>\n")
	for _, r := range d.Registers() {
		info := registerInfoOf(r)
		fmt.Fprintf(&b, "    <reg name=\"%s\" bitsize=\"%d\" regnum=\"%d\" offset=\"%d\" encoding=\"%s\" format=\"%s\" group=\"%s\"",
			esc(r.Name), r.Bits, r.Number, r.Offset, info.Encoding, info.Format, esc(info.Set))
		if info.HasRegNums {
			fmt.Fprintf(&b, " ehframe_regnum=\"%d\" dwarf_regnum=\"%d\"", info.GCC, info.DWARF)
		}
		if info.Generic != "" {
			fmt.Fprintf(&b, " generic=\"%s\"", info.Generic)
		}
		b.WriteString(" />\n")
	}
	b.WriteString("  </feature>\n</target>\n")
	return b.Bytes()
}

// lldbKilled answers a bare k of a client that speaks lldb's dialect as
// lldb-server does: with how the process ended (X09), which lldb waits
// for (without it: "failed to send the k packet").
func lldbKilled(c *client) {
	s := c.s
	if c.lldb == nil || s.lastExit == nil {
		return
	}
	r := *s.lastExit
	if c.multiprocess {
		r.Pid, r.HasPid = int64(s.lastExitPid), true
	}
	c.reply(r.AppendPayload(c.scratch()))
}

// hostInfo answers qHostInfo as lldb-server does on x86-64 Linux: the
// triple, the pointer size and byte order, the kernel (uname(2)), and
// that a watchpoint is reported after the access executed (x86 debug
// exceptions are traps: lldb must not step the instruction again).
func hostInfo() []rsp.Pair {
	pairs := []rsp.Pair{
		{Key: "triple", Value: hexString("x86_64-pc-linux-gnu")},
		{Key: "ptrsize", Value: "8"},
		{Key: "watchpoint_exceptions_received", Value: "after"},
		{Key: "endian", Value: "little"},
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		release := unix.ByteSliceToString(u.Release[:])
		version, _, _ := strings.Cut(release, "-")
		pairs = append(pairs,
			rsp.Pair{Key: "os_version", Value: version},
			rsp.Pair{Key: "os_build", Value: hexString(release)},
			rsp.Pair{Key: "os_kernel", Value: hexString(unix.ByteSliceToString(u.Version[:]))},
			rsp.Pair{Key: "hostname", Value: hexString(unix.ByteSliceToString(u.Nodename[:]))})
	}
	return pairs
}

func hexString(s string) string { return string(rsp.AppendHexString(nil, s)) }
