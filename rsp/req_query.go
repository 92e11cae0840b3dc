package rsp

import "strings"

// Requests of the connection itself: handshake, queries that are not
// about a thread or memory, and monitor commands.

func noArgs(name string, args []byte, r Request) (Request, error) {
	if len(args) != 0 {
		return nil, malformed(name, "unexpected arguments")
	}
	return r, nil
}

// QueryHaltReason asks why the target stopped: "?" (GDB manual, "Packets").
// The reply is a stop reply.
type QueryHaltReason struct{}

// PacketName implements Request.
func (*QueryHaltReason) PacketName() string { return "?" }

// AppendPayload implements Request.
func (*QueryHaltReason) AppendPayload(dst []byte) []byte { return append(dst, '?') }

func parseHaltReason(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryHaltReason{})
}

// EnableExtendedMode is "!" (GDB manual, "Packets"): the connection
// outlives the process and may vRun or vAttach another. Reply OK.
type EnableExtendedMode struct{}

// PacketName implements Request.
func (*EnableExtendedMode) PacketName() string { return "!" }

// AppendPayload implements Request.
func (*EnableExtendedMode) AppendPayload(dst []byte) []byte { return append(dst, '!') }

func parseExtendedMode(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &EnableExtendedMode{})
}

// FeatureState is how a qSupported feature is marked.
type FeatureState uint8

// The marks of a qSupported feature (GDB manual, "General Query Packets",
// qSupported).
const (
	FeatureSupported   FeatureState = iota + 1 // name+
	FeatureUnsupported                         // name-
	FeatureQuery                               // name?
	FeatureValue                               // name=value
)

// String returns a name for the value, for logs and messages.
func (s FeatureState) String() string {
	switch s {
	case FeatureSupported:
		return "+"
	case FeatureUnsupported:
		return "-"
	case FeatureQuery:
		return "?"
	case FeatureValue:
		return "="
	}
	return "FeatureState(?)"
}

// Feature is one entry of a qSupported request or reply: "name+", "name-",
// "name?" or "name=value".
type Feature struct {
	Name  string
	State FeatureState
	Value string // with FeatureValue only
}

// AppendTo appends the wire form of f.
func (f Feature) AppendTo(dst []byte) []byte {
	dst = appendEscapedString(dst, f.Name)
	switch f.State {
	case FeatureSupported:
		return append(dst, '+')
	case FeatureUnsupported:
		return append(dst, '-')
	case FeatureQuery:
		return append(dst, '?')
	}
	dst = append(dst, '=')
	return appendEscapedString(dst, f.Value)
}

func parseFeature(p *Parser, b []byte) (Feature, bool) {
	if name, value, ok := cutByte(b, '='); ok {
		if len(name) == 0 {
			return Feature{}, false
		}
		return Feature{Name: p.arena.string(name), State: FeatureValue, Value: p.arena.string(value)}, true
	}
	if len(b) < 2 {
		return Feature{}, false
	}
	var st FeatureState
	switch b[len(b)-1] {
	case '+':
		st = FeatureSupported
	case '-':
		st = FeatureUnsupported
	case '?':
		st = FeatureQuery
	default:
		return Feature{}, false
	}
	return Feature{Name: p.arena.string(b[:len(b)-1]), State: st}, true
}

// QuerySupported is "qSupported[:feature;feature...]" (GDB manual,
// "General Query Packets"): the client's features, answered with the
// server's (AppendSupported).
type QuerySupported struct {
	Features []Feature
}

// PacketName implements Request.
func (*QuerySupported) PacketName() string { return "qSupported" }

// AppendPayload implements Request.
func (q *QuerySupported) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qSupported"...)
	for i, f := range q.Features {
		if i == 0 {
			dst = append(dst, ':')
		} else {
			dst = append(dst, ';')
		}
		dst = f.AppendTo(dst)
	}
	return dst
}

// Supports reports whether the client marked the feature name with '+'.
func (q *QuerySupported) Supports(name string) bool {
	for _, f := range q.Features {
		if f.Name == name {
			return f.State == FeatureSupported
		}
	}
	return false
}

// Value returns the value the client gave the feature name ("name=value").
func (q *QuerySupported) Value(name string) (string, bool) {
	for _, f := range q.Features {
		if f.Name == name && f.State == FeatureValue {
			return f.Value, true
		}
	}
	return "", false
}

func parseSupported(p *Parser, name string, args []byte) (Request, error) {
	q := &QuerySupported{}
	if len(args) == 0 {
		return q, nil
	}
	if args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	for rest := args[1:]; len(rest) > 0; {
		var item []byte
		item, rest, _ = cutByte(rest, ';')
		if len(item) == 0 {
			continue
		}
		f, ok := parseFeature(p, item)
		if !ok {
			return nil, malformed(name, "bad feature "+quoteBytes(item))
		}
		q.Features = append(q.Features, f)
	}
	return q, nil
}

// StartNoAckMode is "QStartNoAckMode" (GDB manual, "General Query
// Packets"): after the OK reply neither side sends '+' or '-'. See
// Conn.SetNoAck for the order of events.
type StartNoAckMode struct{}

// PacketName implements Request.
func (*StartNoAckMode) PacketName() string { return "QStartNoAckMode" }

// AppendPayload implements Request.
func (*StartNoAckMode) AppendPayload(dst []byte) []byte { return append(dst, "QStartNoAckMode"...) }

func parseStartNoAck(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &StartNoAckMode{})
}

// MustReplyEmpty is "vMustReplyEmpty" (GDB manual, "Packets"): gdb checks
// that unknown v packets get an empty reply. Reply empty.
type MustReplyEmpty struct{}

// PacketName implements Request.
func (*MustReplyEmpty) PacketName() string { return "vMustReplyEmpty" }

// AppendPayload implements Request.
func (*MustReplyEmpty) AppendPayload(dst []byte) []byte { return append(dst, "vMustReplyEmpty"...) }

func parseMustReplyEmpty(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &MustReplyEmpty{})
}

// QueryOffsets is "qOffsets" (GDB manual, "General Query Packets"): the
// section relocation of the program, which a Linux server leaves to the
// auxv and library list (reply empty).
type QueryOffsets struct{}

// PacketName implements Request.
func (*QueryOffsets) PacketName() string { return "qOffsets" }

// AppendPayload implements Request.
func (*QueryOffsets) AppendPayload(dst []byte) []byte { return append(dst, "qOffsets"...) }

func parseOffsets(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryOffsets{})
}

// QueryTraceStatus is "qTStatus" (GDB manual, "Tracepoint Packets"). A
// server without tracepoints replies empty.
type QueryTraceStatus struct{}

// PacketName implements Request.
func (*QueryTraceStatus) PacketName() string { return "qTStatus" }

// AppendPayload implements Request.
func (*QueryTraceStatus) AppendPayload(dst []byte) []byte { return append(dst, "qTStatus"...) }

func parseTraceStatus(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryTraceStatus{})
}

// SymbolsReady is "qSymbol::" (GDB manual, "General Query Packets"): gdb
// offers to look up symbols. Reply OK, or "qSymbol:" and a hex name to ask
// for one (AppendSymbolLookup).
type SymbolsReady struct{}

// PacketName implements Request.
func (*SymbolsReady) PacketName() string { return "qSymbol" }

// AppendPayload implements Request.
func (*SymbolsReady) AppendPayload(dst []byte) []byte { return append(dst, "qSymbol::"...) }

// SymbolValue is "qSymbol:value:name" (GDB manual, "General Query
// Packets"): the answer to a symbol lookup, the name hex-encoded, the value
// empty when gdb does not know the symbol.
type SymbolValue struct {
	Name  string
	Value uint64
	Known bool // false: gdb sent no value
}

// PacketName implements Request.
func (*SymbolValue) PacketName() string { return "qSymbol" }

// AppendPayload implements Request.
func (s *SymbolValue) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qSymbol:"...)
	if s.Known {
		dst = AppendUint(dst, s.Value)
	}
	dst = append(dst, ':')
	return AppendHexString(dst, s.Name)
}

func parseSymbol(p *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	value, sym, ok := cutByte(args[1:], ':')
	if !ok {
		return nil, malformed(name, "expected value:name")
	}
	if len(value) == 0 && len(sym) == 0 {
		return &SymbolsReady{}, nil
	}
	if len(sym) == 0 {
		return nil, malformed(name, "value without a symbol name")
	}
	s := &SymbolValue{}
	if s.Name, ok = p.arena.hexString(sym); !ok {
		return nil, malformed(name, "bad hex in symbol name")
	}
	if len(value) > 0 {
		if s.Value, ok = parseHex(value); !ok {
			return nil, malformed(name, "bad symbol value")
		}
		s.Known = true
	}
	return s, nil
}

// MonitorCommand is "qRcmd,hex" (GDB manual, "General Query Packets"):
// gdb's `monitor` command. The server may send console output (O packets)
// before the final reply, OK or an error.
type MonitorCommand struct {
	// Command is the command text, decoded.
	Command string
}

// PacketName implements Request.
func (*MonitorCommand) PacketName() string { return "qRcmd" }

// AppendPayload implements Request.
func (m *MonitorCommand) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qRcmd,"...)
	return AppendHexString(dst, m.Command)
}

// Fields splits the command into words at white space: "priority 5"
// gives ["priority" "5"]. The server parses the words.
func (m *MonitorCommand) Fields() []string { return strings.Fields(m.Command) }

func parseMonitorCommand(p *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ',' {
		return nil, malformed(name, "expected ',' after the name")
	}
	cmd, ok := p.arena.hexString(args[1:])
	if !ok {
		return nil, malformed(name, "bad hex in command")
	}
	return &MonitorCommand{Command: cmd}, nil
}

// QueryTLSAddr is "qGetTLSAddr:thread,offset,lm" (GDB manual, "General
// Query Packets"): the address of a thread-local variable at offset in the
// TLS block of the module whose link map is at lm. Reply with the address
// in hex (AppendUint).
type QueryTLSAddr struct {
	Thread  ThreadID
	Offset  uint64
	LinkMap uint64
}

// PacketName implements Request.
func (*QueryTLSAddr) PacketName() string { return "qGetTLSAddr" }

// AppendPayload implements Request.
func (q *QueryTLSAddr) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qGetTLSAddr:"...)
	dst = q.Thread.AppendTo(dst)
	dst = append(dst, ',')
	dst = AppendUint(dst, q.Offset)
	dst = append(dst, ',')
	return AppendUint(dst, q.LinkMap)
}

func parseTLSAddr(_ *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	f, ok := splitFields(args[1:], ',', 3)
	if !ok {
		return nil, malformed(name, "expected thread,offset,lm")
	}
	q := &QueryTLSAddr{}
	if q.Thread, ok = parseThreadID(f[0]); !ok {
		return nil, malformed(name, "bad thread id")
	}
	if q.Offset, ok = parseHex(f[1]); !ok {
		return nil, malformed(name, "bad offset")
	}
	if q.LinkMap, ok = parseHex(f[2]); !ok {
		return nil, malformed(name, "bad link map address")
	}
	return q, nil
}

// splitFields splits b at sep into exactly n fields.
func splitFields(b []byte, sep byte, n int) ([3][]byte, bool) {
	var f [3][]byte
	for i := range n {
		var found bool
		if i == n-1 {
			f[i] = b
			return f, true
		}
		f[i], b, found = cutByte(b, sep)
		if !found {
			return f, false
		}
	}
	return f, true
}

// quoteBytes quotes a piece of a packet for an error message, cut short.
func quoteBytes(b []byte) string {
	const max = 32
	if len(b) > max {
		return strconvQuote(b[:max]) + "..."
	}
	return strconvQuote(b)
}

// QueryProcessInfo is "qProcessInfo": lldb's query for the process's id,
// owner, name and architecture (lldb's gdb-remote protocol extensions),
// which lldb and Delve's gdbserial client ask for. Reply
// "pid:HEX;parent-pid:HEX;...;triple:HEX;ptrsize:8;".
type QueryProcessInfo struct{}

func (*QueryProcessInfo) PacketName() string { return "qProcessInfo" }

func (*QueryProcessInfo) AppendPayload(dst []byte) []byte { return append(dst, "qProcessInfo"...) }

func parseProcessInfo(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryProcessInfo{})
}
