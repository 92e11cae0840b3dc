package rsp

import (
	"fmt"
	"unsafe"
)

// Request is a client packet parsed into one Go value per packet kind. The
// server dispatches with one type switch over the pointer types of this
// package (*ReadMemory, *Resume, ...); *Unknown stands for every packet
// rsp does not know, which the server answers with an empty reply.
//
// A Request owns its memory: it stays valid after the frame it came from
// is gone, so its reader can keep it (the server queues the packets of a
// client that does not hold the process) and read on.
type Request interface {
	// PacketName returns the packet's name as the GDB manual spells it:
	// "m", "vCont", "qXfer:features:read".
	PacketName() string
	// AppendPayload appends the request's wire form, unframed, to dst:
	// the client side of the protocol. Binary data (X, vFile:pwrite,
	// qXfer write) comes out escaped, as it goes on the wire; a Reader
	// undoes the escapes, so parsing what it reads of the framed result
	// gives back an equal value.
	AppendPayload(dst []byte) []byte

	isRequest()
}

// ParseError reports a malformed packet: bad hex, a wrong number of
// fields, a value out of range. The connection lives on; the reply is the
// error reply Code.
type ParseError struct {
	Packet string    // the packet's name, as PacketName gives it
	Code   ErrorCode // CodeInvalid, for every error the parser finds
	Reason string    // what is wrong, lower case
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("rsp: malformed %s packet: %s", e.Packet, e.Reason)
}

func malformed(name, reason string) error {
	return &ParseError{Packet: name, Code: CodeInvalid, Reason: reason}
}

// Unknown is a packet rsp does not know (GDB manual, "Packets": "for any
// command not supported by the stub, an empty response should be
// returned"). It also stands for known packets with a variant nobody
// implements, such as a Z packet of type 5.
type Unknown struct {
	// Payload is the whole packet payload.
	Payload []byte
}

// PacketName returns the packet's name as far as it can be told: up to
// the first ':', ',' or ';' for q, Q and v packets, else the first byte.
func (u *Unknown) PacketName() string {
	b := u.Payload
	if len(b) == 0 {
		return ""
	}
	if b[0] != 'q' && b[0] != 'Q' && b[0] != 'v' {
		return string(b[:1])
	}
	for i, c := range b {
		if c == ':' || c == ',' || c == ';' || i == 64 {
			return string(b[:i])
		}
	}
	return string(b)
}

// AppendPayload appends the payload, escaped where it must be for the
// wire (it was unescaped when read).
func (u *Unknown) AppendPayload(dst []byte) []byte { return AppendEscaped(dst, u.Payload) }

// Parser turns packet payloads into Requests. It belongs to the goroutine
// that reads the connection (the server's core loop; it is not safe for
// concurrent use); the Requests it returns are not tied to it and may go
// anywhere.
//
// A Parser carves the variable-size parts of requests (memory data,
// decoded strings) out of a shared block, so that a hot packet costs one
// allocation, the request itself; a request keeps its block alive until
// it is collected. The zero value is ready to use.
type Parser struct {
	arena arena
}

// Parse parses one packet payload. A packet rsp does not know gives
// *Unknown and no error; a malformed packet gives a *ParseError.
func (p *Parser) Parse(payload []byte) (Request, error) {
	def, args, ok := lookupPacket(payload)
	if !ok {
		return &Unknown{Payload: p.arena.copy(payload)}, nil
	}
	req, err := def.parse(p, def.name, args)
	if err != nil {
		return nil, err
	}
	if req == nil {
		// The parser recognised a variant nobody implements.
		return &Unknown{Payload: p.arena.copy(payload)}, nil
	}
	return req, nil
}

// Parse parses one packet payload with a fresh Parser; see Parser.Parse.
func Parse(payload []byte) (Request, error) {
	var p Parser
	return p.Parse(payload)
}

// parseFunc parses the arguments of one packet kind, everything after its
// name. It returns nil, nil for a variant of the packet that is treated as
// unknown.
type parseFunc func(p *Parser, name string, args []byte) (Request, error)

type packetDef struct {
	name  string
	parse parseFunc
	// direct says the arguments follow the name at once, with no
	// separator (lldb's qRegisterInfoN).
	direct bool
}

// packetTable lists every packet rsp parses. Dispatch picks the longest
// name that prefixes the payload; a name ending in a letter or digit must
// be followed by the end of the payload or a separator (':', ',', ';'), as
// the manual asks stubs to check ("General Query Packets"), so that qC
// does not take qCRC. Single-letter packets take their arguments right
// after the letter.
var packetTable = []packetDef{
	{name: "?", parse: parseHaltReason},
	{name: "!", parse: parseExtendedMode},
	{name: "qSupported", parse: parseSupported},
	{name: "QStartNoAckMode", parse: parseStartNoAck},
	{name: "g", parse: parseReadRegisters},
	{name: "G", parse: parseWriteRegisters},
	{name: "p", parse: parseReadRegister},
	{name: "P", parse: parseWriteRegister},
	{name: "m", parse: parseReadMemory},
	{name: "M", parse: parseWriteMemoryHex},
	{name: "X", parse: parseWriteMemoryBinary},
	{name: "Z", parse: parseInsertBreakpoint},
	{name: "z", parse: parseRemoveBreakpoint},
	{name: "c", parse: parseLegacyResume},
	{name: "C", parse: parseLegacyResume},
	{name: "s", parse: parseLegacyResume},
	{name: "S", parse: parseLegacyResume},
	{name: "vCont", parse: parseVCont},
	{name: "vCont?", parse: parseResumeActionsQuery},
	{name: "vCtrlC", parse: parseInterrupt},
	{name: "vStopped", parse: parseStopped},
	{name: "H", parse: parseSelectThread},
	{name: "T", parse: parseThreadAlive},
	{name: "qC", parse: parseCurrentThread},
	{name: "qfThreadInfo", parse: parseListThreads},
	{name: "qsThreadInfo", parse: parseListThreads},
	{name: "qThreadExtraInfo", parse: parseThreadExtraInfo},
	{name: "qAttached", parse: parseAttached},
	{name: "qXfer:features:read", parse: parseReadXfer},
	{name: "qXfer:auxv:read", parse: parseReadXfer},
	{name: "qXfer:exec-file:read", parse: parseReadXfer},
	{name: "qXfer:libraries-svr4:read", parse: parseReadXfer},
	{name: "qXfer:threads:read", parse: parseReadXfer},
	{name: "qXfer:siginfo:read", parse: parseReadXfer},
	{name: "qXfer:siginfo:write", parse: parseWriteXfer},
	{name: "qXfer:osdata:read", parse: parseReadXfer},
	{name: "QPassSignals", parse: parsePassSignals},
	{name: "QProgramSignals", parse: parseProgramSignals},
	{name: "qRcmd", parse: parseMonitorCommand},
	{name: "k", parse: parseKill},
	{name: "vKill", parse: parseKillProcess},
	{name: "D", parse: parseDetach},
	{name: "vAttach", parse: parseAttach},
	{name: "vRun", parse: parseRun},
	{name: "vFile:setfs", parse: parseFileSetFS},
	{name: "vFile:open", parse: parseFileOpen},
	{name: "vFile:pread", parse: parseFileRead},
	{name: "vFile:pwrite", parse: parseFileWrite},
	{name: "vFile:close", parse: parseFileClose},
	{name: "vFile:fstat", parse: parseFileStat},
	{name: "vFile:readlink", parse: parseFileReadlink},
	{name: "vFile:unlink", parse: parseFileUnlink},
	{name: "qSymbol", parse: parseSymbol},
	{name: "qOffsets", parse: parseOffsets},
	{name: "qTStatus", parse: parseTraceStatus},
	{name: "QDisableRandomization", parse: parseDisableRandomization},
	{name: "QEnvironmentHexEncoded", parse: parseSetEnvironment},
	{name: "QEnvironmentReset", parse: parseResetEnvironment},
	{name: "QEnvironmentUnset", parse: parseUnsetEnvironment},
	{name: "QSetWorkingDir", parse: parseSetWorkingDir},
	{name: "QStartupWithShell", parse: parseStartupWithShell},
	{name: "QThreadEvents", parse: parseThreadEvents},
	{name: "QNonStop", parse: parseNonStop},
	{name: "QCatchSyscalls", parse: parseCatchSyscalls},
	{name: "qGetTLSAddr", parse: parseTLSAddr},
	{name: "vMustReplyEmpty", parse: parseMustReplyEmpty},
	{name: "qRegisterInfo", parse: parseRegisterInfo, direct: true},
	{name: "qProcessInfo", parse: parseProcessInfo},
	{name: "qHostInfo", parse: parseHostInfo},
	{name: "qShlibInfoAddr", parse: parseShlibInfoAddr},
	{name: "QListThreadsInStopReply", parse: parseListThreadsInStopReply},
	{name: "QThreadSuffixSupported", parse: parseEnableThreadSuffix},
	{name: "qThreadStopInfo", parse: parseThreadStopInfo, direct: true},
	{name: "jThreadsInfo", parse: parseThreadsInfo},
	{name: "qMemoryRegionInfo", parse: parseMemoryRegion},
	{name: "qWatchpointSupportInfo", parse: parseWatchpointSupport},
}

// packetIndex holds packetTable by first byte, longest name first.
var packetIndex = buildPacketIndex(packetTable)

func buildPacketIndex(table []packetDef) *[256][]packetDef {
	var idx [256][]packetDef
	for _, d := range table {
		list := append(idx[d.name[0]], d)
		// Insertion sort, longest first: the table is small and built once.
		for i := len(list) - 1; i > 0 && len(list[i].name) > len(list[i-1].name); i-- {
			list[i], list[i-1] = list[i-1], list[i]
		}
		idx[d.name[0]] = list
	}
	return &idx
}

// PacketNames returns the name of every packet kind the parser knows, for
// --disable-packet and for documentation.
func PacketNames() []string {
	names := make([]string, len(packetTable))
	for i, d := range packetTable {
		names[i] = d.name
	}
	return names
}

func lookupPacket(payload []byte) (packetDef, []byte, bool) {
	if len(payload) == 0 {
		return packetDef{}, nil, false
	}
	for _, d := range packetIndex[payload[0]] {
		n := len(d.name)
		if len(payload) < n || string(payload[:n]) != d.name {
			continue
		}
		if n > 1 && !d.direct && isAlnum(d.name[n-1]) && len(payload) > n && !isSeparator(payload[n]) {
			continue
		}
		return d, payload[n:], true
	}
	return packetDef{}, nil, false
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isSeparator(c byte) bool { return c == ':' || c == ',' || c == ';' }

// arena hands out byte slices carved from shared blocks. A carved slice
// has its capacity cut to its length, and the arena only moves forward, so
// no two slices overlap and a carved slice is never written by the arena
// again: strings made from one stay immutable.
type arena struct {
	block []byte
}

const (
	arenaFirstBlock = 512      // a Parser used once stays small
	arenaBlock      = 32 << 10 // blocks double up to this size
	arenaMaxCarve   = 4 << 10  // larger slices get their own allocation
)

func (a *arena) alloc(n int) []byte {
	if n == 0 {
		return nil
	}
	if n > arenaMaxCarve {
		return make([]byte, n)
	}
	if cap(a.block)-len(a.block) < n {
		size := min(max(2*cap(a.block), arenaFirstBlock, n), arenaBlock)
		a.block = make([]byte, 0, size)
	}
	l := len(a.block)
	a.block = a.block[:l+n]
	return a.block[l : l+n : l+n]
}

func (a *arena) copy(b []byte) []byte {
	c := a.alloc(len(b))
	copy(c, b)
	return c
}

// string returns b as a string backed by arena memory. Safe because carved
// memory is never written again (see arena); it saves the allocation that
// string(b) costs for every qRcmd and annex.
func (a *arena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	c := a.copy(b)
	return unsafe.String(&c[0], len(c))
}

// hex decodes a hex string into arena memory.
func (a *arena) hex(src []byte) ([]byte, bool) {
	if len(src)%2 != 0 {
		return nil, false
	}
	dst := a.alloc(len(src) / 2)
	if _, err := DecodeHex(dst[:0], src); err != nil {
		return nil, false
	}
	return dst, true
}

// hexString decodes a hex string into an arena-backed string.
func (a *arena) hexString(src []byte) (string, bool) {
	b, ok := a.hex(src)
	if !ok {
		return "", false
	}
	if len(b) == 0 {
		return "", true
	}
	return unsafe.String(&b[0], len(b)), true
}
