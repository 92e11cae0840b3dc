package rsp

// lldb's packets: the queries lldb (and Delve's gdbserial client, written
// against lldb-server and debugserver) sends beside gdb's, as lldb's
// "GDB Remote Protocol Extensions" (lldb/docs/resources/lldbgdbremote.md)
// define them. Their replies are "key:value;" lists (AppendPairs), a stop
// reply (qThreadStopInfo) or JSON (jThreadsInfo, sent escaped).

// QueryHostInfo is "qHostInfo": what the host is (triple, pointer size,
// byte order, OS version) and, for watchpoints, whether a hit is reported
// before or after the access executes. Reply "key:value;..."
// (AppendPairs).
type QueryHostInfo struct{}

// PacketName implements Request.
func (*QueryHostInfo) PacketName() string { return "qHostInfo" }

// AppendPayload implements Request.
func (*QueryHostInfo) AppendPayload(dst []byte) []byte { return append(dst, "qHostInfo"...) }

func parseHostInfo(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryHostInfo{})
}

// QueryShlibInfoAddr is "qShlibInfoAddr": the address where the dynamic
// linker's list of loaded objects is found. lldb reads the pointer stored
// there (on Linux, DT_DEBUG's value: struct r_debug). Reply a hex address,
// or an error or the empty reply when the server does not know it.
type QueryShlibInfoAddr struct{}

// PacketName implements Request.
func (*QueryShlibInfoAddr) PacketName() string { return "qShlibInfoAddr" }

// AppendPayload implements Request.
func (*QueryShlibInfoAddr) AppendPayload(dst []byte) []byte {
	return append(dst, "qShlibInfoAddr"...)
}

func parseShlibInfoAddr(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryShlibInfoAddr{})
}

// EnableThreadSuffix is "QThreadSuffixSupported": from now on the client
// names the thread of each g, G, p and P packet with a ";thread:ID;"
// suffix (ThreadSuffix) instead of selecting it with Hg. Reply OK.
type EnableThreadSuffix struct{}

// PacketName implements Request.
func (*EnableThreadSuffix) PacketName() string { return "QThreadSuffixSupported" }

// AppendPayload implements Request.
func (*EnableThreadSuffix) AppendPayload(dst []byte) []byte {
	return append(dst, "QThreadSuffixSupported"...)
}

func parseEnableThreadSuffix(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &EnableThreadSuffix{})
}

// ListThreadsInStopReply is "QListThreadsInStopReply": from now on every
// stop reply lists the process's threads ("threads:TID,TID,...;") and
// their pcs ("thread-pcs:PC,PC,...;"), which saves lldb a qfThreadInfo
// and a register read per thread at each stop. Reply OK.
type ListThreadsInStopReply struct{}

// PacketName implements Request.
func (*ListThreadsInStopReply) PacketName() string { return "QListThreadsInStopReply" }

// AppendPayload implements Request.
func (*ListThreadsInStopReply) AppendPayload(dst []byte) []byte {
	return append(dst, "QListThreadsInStopReply"...)
}

func parseListThreadsInStopReply(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &ListThreadsInStopReply{})
}

// QueryThreadStopInfo is "qThreadStopInfoTID" (TID in hex, or pPID.TID):
// why one thread stopped, answered with a stop reply for that thread (T00
// for a thread that has no reason of its own).
type QueryThreadStopInfo struct {
	Thread ThreadID
}

// PacketName implements Request.
func (*QueryThreadStopInfo) PacketName() string { return "qThreadStopInfo" }

// AppendPayload implements Request.
func (q *QueryThreadStopInfo) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qThreadStopInfo"...)
	return q.Thread.AppendTo(dst)
}

func parseThreadStopInfo(_ *Parser, name string, args []byte) (Request, error) {
	t, ok := parseThreadID(args)
	if !ok || t.IsAll() {
		return nil, malformed(name, "expected one thread id")
	}
	return &QueryThreadStopInfo{Thread: t}, nil
}

// QueryThreadsInfo is "jThreadsInfo[:OPTIONS]": every thread's id, name,
// stop reason and expedited registers in one JSON array, which lldb asks
// for at each stop instead of one qThreadStopInfo per thread. Options, a
// JSON object, are kept as sent. The reply is JSON, sent escaped
// (AppendEscaped: '}' is structural in JSON and escaped on the wire).
type QueryThreadsInfo struct {
	Options    string
	HasOptions bool
}

// PacketName implements Request.
func (*QueryThreadsInfo) PacketName() string { return "jThreadsInfo" }

// AppendPayload implements Request.
func (q *QueryThreadsInfo) AppendPayload(dst []byte) []byte {
	dst = append(dst, "jThreadsInfo"...)
	if q.HasOptions {
		dst = append(dst, ':')
		dst = appendEscapedString(dst, q.Options)
	}
	return dst
}

func parseThreadsInfo(p *Parser, name string, args []byte) (Request, error) {
	q := &QueryThreadsInfo{}
	if len(args) == 0 {
		return q, nil
	}
	if args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	q.Options, q.HasOptions = p.arena.string(args[1:]), true
	return q, nil
}

// QueryMemoryRegion is "qMemoryRegionInfo:ADDR": the mapping that holds
// ADDR (start, size, permissions, name), or the gap around it. Reply
// "start:HEX;size:HEX;permissions:rwx;name:HEX;" (AppendPairs).
type QueryMemoryRegion struct {
	Addr uint64
}

// PacketName implements Request.
func (*QueryMemoryRegion) PacketName() string { return "qMemoryRegionInfo" }

// AppendPayload implements Request.
func (q *QueryMemoryRegion) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qMemoryRegionInfo:"...)
	return AppendUint(dst, q.Addr)
}

func parseMemoryRegion(_ *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' and an address")
	}
	addr, ok := parseHex(args[1:])
	if !ok {
		return nil, malformed(name, "bad address")
	}
	return &QueryMemoryRegion{Addr: addr}, nil
}

// QueryWatchpointSupport is "qWatchpointSupportInfo[:]": how many hardware
// watchpoints the target has. Reply "num:N;" (AppendPairs).
type QueryWatchpointSupport struct {
	// Colon says the packet ended with ':', as lldb sends it.
	Colon bool
}

// PacketName implements Request.
func (*QueryWatchpointSupport) PacketName() string { return "qWatchpointSupportInfo" }

// AppendPayload implements Request.
func (q *QueryWatchpointSupport) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qWatchpointSupportInfo"...)
	if q.Colon {
		dst = append(dst, ':')
	}
	return dst
}

func parseWatchpointSupport(_ *Parser, name string, args []byte) (Request, error) {
	switch string(args) {
	case "":
		return &QueryWatchpointSupport{}, nil
	case ":":
		return &QueryWatchpointSupport{Colon: true}, nil
	}
	return nil, malformed(name, "unexpected arguments")
}

// Pair is one "key:value;" of lldb's replies to qHostInfo, qProcessInfo,
// qMemoryRegionInfo, qWatchpointSupportInfo and qRegisterInfo. The value
// goes as it is: a string that may hold ';' or ':' is sent hex-encoded,
// and each key says which (lldb's docs).
type Pair struct {
	Key, Value string
}

// AppendPairs appends "key:value;" for each pair, in order.
func AppendPairs(dst []byte, pairs ...Pair) []byte {
	for _, p := range pairs {
		dst = appendEscapedString(dst, p.Key)
		dst = append(dst, ':')
		dst = appendEscapedString(dst, p.Value)
		dst = append(dst, ';')
	}
	return dst
}
