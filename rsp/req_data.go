package rsp

// Registers and memory.

// RegNum is a register number: its position in the target description
// (target.xml), in hex on the wire.
type RegNum uint32

// maxLength bounds the lengths in m, M and X packets and in vFile and
// qXfer reads; the server further cuts a read to what fits in a reply.
const maxLength = 1<<31 - 1

// ThreadSuffix is lldb's ";thread:ID;" at the end of a g, G, p or P
// packet, once the server has answered QThreadSuffixSupported with OK
// (lldb's protocol extensions, "QThreadSuffixSupported"): the packet is
// about thread ID, not about the thread selected with Hg.
type ThreadSuffix struct {
	Thread ThreadID
	Has    bool
}

// Suffix returns the thread the packet names, if it names one.
func (s ThreadSuffix) Suffix() (ThreadID, bool) { return s.Thread, s.Has }

func (s ThreadSuffix) appendTo(dst []byte) []byte {
	if !s.Has {
		return dst
	}
	dst = append(dst, ";thread:"...)
	dst = s.Thread.AppendTo(dst)
	return append(dst, ';')
}

// cutThreadSuffix splits ";thread:ID;" off the end of args. ok is false
// for a suffix that is there but malformed.
func cutThreadSuffix(args []byte) (rest []byte, s ThreadSuffix, ok bool) {
	const key = ";thread:"
	i := lastIndex(args, key)
	if i < 0 {
		return args, s, true
	}
	id := args[i+len(key):]
	if len(id) == 0 || id[len(id)-1] != ';' {
		return nil, s, false
	}
	t, ok := parseThreadID(id[:len(id)-1])
	if !ok || t.IsAll() {
		return nil, s, false
	}
	return args[:i], ThreadSuffix{Thread: t, Has: true}, true
}

func lastIndex(b []byte, sub string) int {
	for i := len(b) - len(sub); i >= 0; i-- {
		if string(b[i:i+len(sub)]) == sub {
			return i
		}
	}
	return -1
}

// ReadRegisters is "g" (GDB manual, "Packets"): all registers of the
// thread selected with Hg (or named by a ThreadSuffix), in
// target-description order. Reply with hex (AppendHex), "xx" for each
// byte of an unavailable register (AppendUnavailable).
type ReadRegisters struct {
	ThreadSuffix
}

// PacketName implements Request.
func (*ReadRegisters) PacketName() string { return "g" }

// AppendPayload implements Request.
func (r *ReadRegisters) AppendPayload(dst []byte) []byte {
	return r.ThreadSuffix.appendTo(append(dst, 'g'))
}

func parseReadRegisters(_ *Parser, name string, args []byte) (Request, error) {
	args, suffix, ok := cutThreadSuffix(args)
	if !ok {
		return nil, malformed(name, "bad thread suffix")
	}
	return noArgs(name, args, &ReadRegisters{ThreadSuffix: suffix})
}

// WriteRegisters is "G XX..." (GDB manual, "Packets"): all registers of
// the Hg thread, in the layout of the g reply. Reply OK.
type WriteRegisters struct {
	Data []byte
	ThreadSuffix
}

// PacketName implements Request.
func (*WriteRegisters) PacketName() string { return "G" }

// AppendPayload implements Request.
func (w *WriteRegisters) AppendPayload(dst []byte) []byte {
	dst = append(dst, 'G')
	return w.ThreadSuffix.appendTo(AppendHex(dst, w.Data))
}

func parseWriteRegisters(p *Parser, name string, args []byte) (Request, error) {
	args, suffix, ok := cutThreadSuffix(args)
	if !ok {
		return nil, malformed(name, "bad thread suffix")
	}
	if len(args) == 0 {
		return nil, malformed(name, "no register data")
	}
	data, ok := p.arena.hex(args)
	if !ok {
		return nil, malformed(name, "bad hex in register data")
	}
	return &WriteRegisters{Data: data, ThreadSuffix: suffix}, nil
}

// ReadRegister is "p n" (GDB manual, "Packets"): one register of the Hg
// thread. Reply with its bytes in hex, target byte order.
type ReadRegister struct {
	Reg RegNum
	ThreadSuffix
}

// PacketName implements Request.
func (*ReadRegister) PacketName() string { return "p" }

// AppendPayload implements Request.
func (r *ReadRegister) AppendPayload(dst []byte) []byte {
	dst = append(dst, 'p')
	return r.ThreadSuffix.appendTo(AppendUint(dst, uint64(r.Reg)))
}

func parseRegNum(b []byte) (RegNum, bool) {
	v, ok := parseHex(b)
	if !ok || v > 1<<32-1 {
		return 0, false
	}
	return RegNum(v), true
}

func parseReadRegister(_ *Parser, name string, args []byte) (Request, error) {
	args, suffix, ok := cutThreadSuffix(args)
	if !ok {
		return nil, malformed(name, "bad thread suffix")
	}
	n, ok := parseRegNum(args)
	if !ok {
		return nil, malformed(name, "bad register number")
	}
	return &ReadRegister{Reg: n, ThreadSuffix: suffix}, nil
}

// WriteRegister is "P n=r..." (GDB manual, "Packets"): set one register of
// the Hg thread to the hex bytes r, target byte order. Reply OK.
type WriteRegister struct {
	Reg   RegNum
	Value []byte
	ThreadSuffix
}

// PacketName implements Request.
func (*WriteRegister) PacketName() string { return "P" }

// AppendPayload implements Request.
func (w *WriteRegister) AppendPayload(dst []byte) []byte {
	dst = append(dst, 'P')
	dst = AppendUint(dst, uint64(w.Reg))
	dst = append(dst, '=')
	return w.ThreadSuffix.appendTo(AppendHex(dst, w.Value))
}

func parseWriteRegister(p *Parser, name string, args []byte) (Request, error) {
	args, suffix, ok := cutThreadSuffix(args)
	if !ok {
		return nil, malformed(name, "bad thread suffix")
	}
	num, value, found := cutByte(args, '=')
	if !found {
		return nil, malformed(name, "expected n=value")
	}
	w := &WriteRegister{ThreadSuffix: suffix}
	if w.Reg, ok = parseRegNum(num); !ok {
		return nil, malformed(name, "bad register number")
	}
	if len(value) == 0 {
		return nil, malformed(name, "empty register value")
	}
	if w.Value, ok = p.arena.hex(value); !ok {
		return nil, malformed(name, "bad hex in register value")
	}
	return w, nil
}

// ReadMemory is "m addr,length" (GDB manual, "Packets"). Reply with the
// bytes in hex; fewer bytes than asked if only part is readable, an error
// if none is.
type ReadMemory struct {
	Addr   uint64
	Length int // at most 2^31-1; cut it to what fits in a reply
}

// PacketName implements Request.
func (*ReadMemory) PacketName() string { return "m" }

// AppendPayload implements Request.
func (r *ReadMemory) AppendPayload(dst []byte) []byte {
	dst = append(dst, 'm')
	dst = AppendUint(dst, r.Addr)
	dst = append(dst, ',')
	return AppendUint(dst, uint64(r.Length))
}

// parseAddrLength parses "addr,length".
func parseAddrLength(b []byte) (addr uint64, length int, ok bool) {
	a, l, found := cutByte(b, ',')
	if !found {
		return 0, 0, false
	}
	if addr, ok = parseHex(a); !ok {
		return 0, 0, false
	}
	n, ok := parseHex(l)
	if !ok || n > maxLength {
		return 0, 0, false
	}
	return addr, int(n), true
}

func parseReadMemory(_ *Parser, name string, args []byte) (Request, error) {
	addr, length, ok := parseAddrLength(args)
	if !ok {
		return nil, malformed(name, "expected addr,length in hex")
	}
	return &ReadMemory{Addr: addr, Length: length}, nil
}

// WriteMemory is "M addr,length:XX..." (hex data) or "X addr,length:data"
// (binary data, escaped on the wire) (GDB manual, "Packets"): both parse
// to this one type. gdb probes for X support with a zero-length write.
// Reply OK.
type WriteMemory struct {
	Addr uint64
	Data []byte
	// Binary says the request came as X; formatting writes it back so.
	Binary bool
}

// PacketName returns "X" or "M".
func (w *WriteMemory) PacketName() string {
	if w.Binary {
		return "X"
	}
	return "M"
}

// AppendPayload implements Request.
func (w *WriteMemory) AppendPayload(dst []byte) []byte {
	if w.Binary {
		dst = append(dst, 'X')
	} else {
		dst = append(dst, 'M')
	}
	dst = AppendUint(dst, w.Addr)
	dst = append(dst, ',')
	dst = AppendUint(dst, uint64(len(w.Data)))
	dst = append(dst, ':')
	if w.Binary {
		return AppendEscaped(dst, w.Data)
	}
	return AppendHex(dst, w.Data)
}

func parseWriteMemoryHex(p *Parser, name string, args []byte) (Request, error) {
	head, data, found := cutByte(args, ':')
	if !found {
		return nil, malformed(name, "expected addr,length:data")
	}
	addr, length, ok := parseAddrLength(head)
	if !ok {
		return nil, malformed(name, "expected addr,length in hex")
	}
	if len(data) != 2*length {
		return nil, malformed(name, "data length does not match length field")
	}
	w := &WriteMemory{Addr: addr}
	if w.Data, ok = p.arena.hex(data); !ok {
		return nil, malformed(name, "bad hex in data")
	}
	return w, nil
}

func parseWriteMemoryBinary(p *Parser, name string, args []byte) (Request, error) {
	head, data, found := cutByte(args, ':')
	if !found {
		return nil, malformed(name, "expected addr,length:data")
	}
	addr, length, ok := parseAddrLength(head)
	if !ok {
		return nil, malformed(name, "expected addr,length in hex")
	}
	if len(data) != length {
		return nil, malformed(name, "data length does not match length field")
	}
	return &WriteMemory{Addr: addr, Data: p.arena.copy(data), Binary: true}, nil
}

// QueryRegisterInfo is "qRegisterInfoN" (N in hex): lldb's query for the
// description of register N (lldb's gdb-remote protocol extensions,
// "qRegisterInfo"), used by lldb and by Delve's gdbserial client. Reply with
// "name:rax;bitsize:64;offset:0;...", or an error past the last register.
type QueryRegisterInfo struct {
	Reg RegNum
}

func (*QueryRegisterInfo) PacketName() string { return "qRegisterInfo" }

func (q *QueryRegisterInfo) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qRegisterInfo"...)
	return AppendUint(dst, uint64(q.Reg))
}

func parseRegisterInfo(_ *Parser, name string, args []byte) (Request, error) {
	n, ok := parseRegNum(args)
	if !ok {
		return nil, malformed(name, "expected a register number in hex")
	}
	return &QueryRegisterInfo{Reg: n}, nil
}
