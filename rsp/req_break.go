package rsp

import "strconv"

// Breakpoints and watchpoints: Z and z (GDB manual, "Packets", "insert
// breakpoint or watchpoint packet").

// BreakpointType is the type digit of a Z or z packet.
type BreakpointType uint8

// The Z types.
const (
	SoftwareBreakpoint BreakpointType = 0 // Z0: a breakpoint instruction in memory
	HardwareBreakpoint BreakpointType = 1 // Z1: an execute debug register
	WriteWatchpoint    BreakpointType = 2 // Z2
	ReadWatchpoint     BreakpointType = 3 // Z3
	AccessWatchpoint   BreakpointType = 4 // Z4: read or write
)

// maxBreakpointType is the highest type rsp knows; a Z or z packet of a
// higher type is Unknown, so that the client sees it unsupported.
const maxBreakpointType = AccessWatchpoint

// String returns a name for the value, for logs and messages.
func (t BreakpointType) String() string {
	switch t {
	case SoftwareBreakpoint:
		return "software breakpoint"
	case HardwareBreakpoint:
		return "hardware breakpoint"
	case WriteWatchpoint:
		return "write watchpoint"
	case ReadWatchpoint:
		return "read watchpoint"
	case AccessWatchpoint:
		return "access watchpoint"
	}
	return "BreakpointType(" + strconv.Itoa(int(t)) + ")"
}

// IsWatchpoint reports whether the type watches data (Z2, Z3, Z4).
func (t BreakpointType) IsWatchpoint() bool {
	return t == WriteWatchpoint || t == ReadWatchpoint || t == AccessWatchpoint
}

// AgentExpr is the bytecode of an agent expression (GDB manual, "Agent
// Expressions"), sent as "X len,hex" in breakpoint conditions and commands.
type AgentExpr []byte

// InsertBreakpoint is "Z type,addr,kind[;cond_list...][;cmds:persist,cmd_list...]"
// (GDB manual, "Packets"). For a watchpoint Kind is the length watched, in
// bytes; for a breakpoint it is the kind of breakpoint instruction (1 on
// x86). Conditions and commands are kept as bytecode; gdb sends them only
// to a server that advertised ConditionalBreakpoints or BreakpointCommands.
// Reply OK, an error, or empty for an unsupported type.
type InsertBreakpoint struct {
	Type       BreakpointType
	Addr       uint64
	Kind       uint64
	Conditions []AgentExpr
	Commands   []AgentExpr
	// Persist says the commands run even while gdb is disconnected.
	Persist bool
}

// PacketName implements Request.
func (*InsertBreakpoint) PacketName() string { return "Z" }

// AppendPayload implements Request.
func (b *InsertBreakpoint) AppendPayload(dst []byte) []byte {
	dst = appendBreakpoint(dst, 'Z', b.Type, b.Addr, b.Kind)
	if len(b.Conditions) > 0 {
		dst = append(dst, ';')
		for _, e := range b.Conditions {
			dst = appendAgentExpr(dst, e)
		}
	}
	if len(b.Commands) > 0 {
		dst = append(dst, ";cmds:"...)
		if b.Persist {
			dst = append(dst, '1')
		} else {
			dst = append(dst, '0')
		}
		dst = append(dst, ',')
		for _, e := range b.Commands {
			dst = appendAgentExpr(dst, e)
		}
	}
	return dst
}

// RemoveBreakpoint is "z type,addr,kind" (GDB manual, "Packets"). Reply
// OK, an error, or empty for an unsupported type.
type RemoveBreakpoint struct {
	Type BreakpointType
	Addr uint64
	Kind uint64
}

// PacketName implements Request.
func (*RemoveBreakpoint) PacketName() string { return "z" }

// AppendPayload implements Request.
func (b *RemoveBreakpoint) AppendPayload(dst []byte) []byte {
	return appendBreakpoint(dst, 'z', b.Type, b.Addr, b.Kind)
}

func appendBreakpoint(dst []byte, letter byte, t BreakpointType, addr, kind uint64) []byte {
	dst = append(dst, letter)
	dst = AppendUint(dst, uint64(t))
	dst = append(dst, ',')
	dst = AppendUint(dst, addr)
	dst = append(dst, ',')
	return AppendUint(dst, kind)
}

func appendAgentExpr(dst []byte, e AgentExpr) []byte {
	dst = append(dst, 'X')
	dst = AppendUint(dst, uint64(len(e)))
	dst = append(dst, ',')
	return AppendHex(dst, e)
}

// parseBreakpointHead parses "type,addr,kind" and returns what follows
// kind, from its ';' on. known is false for a type above Z4.
func parseBreakpointHead(b []byte) (t BreakpointType, addr, kind uint64, rest []byte, known, ok bool) {
	tf, b, found1 := cutByte(b, ',')
	af, b, found2 := cutByte(b, ',')
	kf, _, hasOptions := cutByte(b, ';')
	if !found1 || !found2 {
		return 0, 0, 0, nil, false, false
	}
	tv, ok1 := parseHex(tf)
	addr, ok2 := parseHex(af)
	kind, ok3 := parseHex(kf)
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, nil, false, false
	}
	if hasOptions {
		rest = b[len(kf):]
	}
	if tv > uint64(maxBreakpointType) {
		return 0, addr, kind, rest, false, true
	}
	return BreakpointType(tv), addr, kind, rest, true, true
}

func parseInsertBreakpoint(p *Parser, name string, args []byte) (Request, error) {
	t, addr, kind, rest, known, ok := parseBreakpointHead(args)
	if !ok {
		return nil, malformed(name, "expected type,addr,kind in hex")
	}
	if !known {
		return nil, nil
	}
	b := &InsertBreakpoint{Type: t, Addr: addr, Kind: kind}
	// Options, as gdb writes them (remote.c, target-side conditions and
	// commands): ";" then "Xlen,hex" repeated for the conditions, and
	// ";cmds:P," then "Xlen,hex" repeated for the commands.
	commands := false
	for len(rest) > 0 {
		switch {
		case rest[0] == ';':
			rest = rest[1:]
		case rest[0] == 'X':
			e, r, ok := parseAgentExpr(p, rest[1:])
			if !ok {
				return nil, malformed(name, "bad agent expression")
			}
			if commands {
				b.Commands = append(b.Commands, e)
			} else {
				b.Conditions = append(b.Conditions, e)
			}
			rest = r
		case !commands && len(rest) >= 7 && string(rest[:5]) == "cmds:" &&
			(rest[5] == '0' || rest[5] == '1') && rest[6] == ',':
			b.Persist = rest[5] == '1'
			commands = true
			rest = rest[7:]
		default:
			return nil, malformed(name, "unknown option "+quoteBytes(rest))
		}
	}
	if commands && len(b.Commands) == 0 {
		return nil, malformed(name, "cmds: without commands")
	}
	return b, nil
}

// parseAgentExpr parses "len,hex" after the 'X'.
func parseAgentExpr(p *Parser, b []byte) (AgentExpr, []byte, bool) {
	lf, b, found := cutByte(b, ',')
	if !found {
		return nil, nil, false
	}
	n, ok := parseHex(lf)
	if !ok || n == 0 || n > uint64(len(b)/2) {
		return nil, nil, false
	}
	e, ok := p.arena.hex(b[:2*n])
	if !ok {
		return nil, nil, false
	}
	return AgentExpr(e), b[2*n:], true
}

func parseRemoveBreakpoint(_ *Parser, name string, args []byte) (Request, error) {
	t, addr, kind, rest, known, ok := parseBreakpointHead(args)
	if !ok || len(rest) > 0 {
		return nil, malformed(name, "expected type,addr,kind in hex")
	}
	if !known {
		return nil, nil
	}
	return &RemoveBreakpoint{Type: t, Addr: addr, Kind: kind}, nil
}
