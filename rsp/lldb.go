package rsp

import (
	"bytes"
	"strconv"
)

// Replies of lldb's gdb-remote protocol extensions (lldb's
// docs/resources/lldbgdbremote.md), which lldb and Delve's gdbserial
// client ask for: a list of "key:value;" pairs, a few values hex-encoded.

// RegisterInfo is the reply to qRegisterInfoN: one register as lldb
// describes it, "name:rax;bitsize:64;offset:0;encoding:uint;format:hex;
// set:General Purpose Registers;gcc:0;dwarf:0;generic:arg1;". Past the
// last register the reply is AppendError(CodeNoMoreRegisters).
type RegisterInfo struct {
	Name   string
	Bits   int
	Offset int // in the g packet, in bytes
	// Encoding is uint, sint, ieee754 or vector; Format hex, float,
	// vector-uint8 and the like; Set the group lldb lists it in.
	Encoding, Format, Set string
	// GCC (eh_frame) and DWARF numbers, when HasRegNums.
	GCC, DWARF int
	HasRegNums bool
	// Generic is the role lldb gives the register (pc, sp, fp, flags,
	// arg1-arg6), or "".
	Generic string
}

// AppendPayload appends the reply. Names, sets and roles must hold no
// ':' or ';' (lldb's format has no escape for them).
func (r *RegisterInfo) AppendPayload(dst []byte) []byte {
	dst = appendPair(dst, "name", r.Name)
	dst = appendIntPair(dst, "bitsize", int64(r.Bits))
	dst = appendIntPair(dst, "offset", int64(r.Offset))
	dst = appendPair(dst, "encoding", r.Encoding)
	dst = appendPair(dst, "format", r.Format)
	dst = appendPair(dst, "set", r.Set)
	if r.HasRegNums {
		dst = appendIntPair(dst, "gcc", int64(r.GCC))
		dst = appendIntPair(dst, "dwarf", int64(r.DWARF))
	}
	if r.Generic != "" {
		dst = appendPair(dst, "generic", r.Generic)
	}
	return dst
}

// ParseRegisterInfo parses a qRegisterInfo reply (the client side);
// keys it does not know are skipped, as lldb skips them.
func ParseRegisterInfo(payload []byte) (*RegisterInfo, error) {
	const packet = "qRegisterInfo"
	r := &RegisterInfo{}
	gcc, dwarf := false, false
	err := eachPair(packet, payload, func(key, value string) error {
		var err error
		switch key {
		case "name":
			r.Name = value
		case "bitsize":
			r.Bits, err = decimal(packet, key, value)
		case "offset":
			r.Offset, err = decimal(packet, key, value)
		case "encoding":
			r.Encoding = value
		case "format":
			r.Format = value
		case "set":
			r.Set = value
		case "gcc", "ehframe":
			r.GCC, err = decimal(packet, key, value)
			gcc = true
		case "dwarf":
			r.DWARF, err = decimal(packet, key, value)
			dwarf = true
		case "generic":
			r.Generic = value
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if gcc != dwarf {
		return nil, malformed(packet, "gcc and dwarf numbers come together")
	}
	r.HasRegNums = gcc
	return r, nil
}

// ProcessInfo is the reply to qProcessInfo: who the process is, its
// owner and its architecture, in lldb-server's keys (lldb reads these,
// not gdb-style abbreviations): "pid:HEX;parent-pid:HEX;real-uid:HEX;
// real-gid:HEX;effective-uid:HEX;effective-gid:HEX;name:HEXSTRING;
// triple:HEXSTRING;ostype:linux;endian:little;ptrsize:8;". What the server cannot tell is left out (lldb does
// without): the parent and the ids unless HasIDs, the triple and the OS
// type when empty.
type ProcessInfo struct {
	Pid                  int64
	HasIDs               bool
	ParentPid            int64
	UID, GID, EUID, EGID int64
	Name                 string // hex-encoded on the wire
	Triple               string // hex-encoded on the wire: x86_64-pc-linux-gnu
	OSType               string // linux
	Endian               string // little
	PointerSize          int
}

// AppendPayload appends the reply.
func (p *ProcessInfo) AppendPayload(dst []byte) []byte {
	for i, kv := range p.ids() {
		if i > 0 && !p.HasIDs {
			break
		}
		dst = append(dst, kv.key...)
		dst = append(dst, ':')
		dst = appendInt(dst, *kv.v)
		dst = append(dst, ';')
	}
	dst = append(dst, "name:"...)
	dst = append(AppendHexString(dst, p.Name), ';')
	if p.Triple != "" {
		dst = append(dst, "triple:"...)
		dst = append(AppendHexString(dst, p.Triple), ';')
	}
	if p.OSType != "" {
		dst = appendPair(dst, "ostype", p.OSType)
	}
	dst = appendPair(dst, "endian", p.Endian)
	return appendIntPair(dst, "ptrsize", int64(p.PointerSize))
}

// ids lists the hex-numbered fields, in the order of the reply: the pid,
// then those of HasIDs.
func (p *ProcessInfo) ids() []struct {
	key string
	v   *int64
} {
	return []struct {
		key string
		v   *int64
	}{{"pid", &p.Pid}, {"parent-pid", &p.ParentPid}, {"real-uid", &p.UID}, {"real-gid", &p.GID}, {"effective-uid", &p.EUID}, {"effective-gid", &p.EGID}}
}

// ParseProcessInfo parses a qProcessInfo reply (the client side); keys it
// does not know are skipped.
func ParseProcessInfo(payload []byte) (*ProcessInfo, error) {
	const packet = "qProcessInfo"
	p := &ProcessInfo{}
	ids := p.ids()
	err := eachPair(packet, payload, func(key, value string) error {
		for i, kv := range ids {
			if kv.key == key {
				v, err := strconv.ParseInt(value, 16, 64)
				if err != nil {
					return malformed(packet, key+": expected a hex number")
				}
				*kv.v = v
				p.HasIDs = p.HasIDs || i > 0
				return nil
			}
		}
		var err error
		switch key {
		case "name":
			p.Name, err = hexString(packet, key, value)
		case "triple":
			p.Triple, err = hexString(packet, key, value)
		case "ostype":
			p.OSType = value
		case "endian":
			p.Endian = value
		case "ptrsize":
			p.PointerSize, err = decimal(packet, key, value)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func appendPair(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, ':')
	dst = append(dst, value...)
	return append(dst, ';')
}

func appendIntPair(dst []byte, key string, v int64) []byte {
	dst = append(dst, key...)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, ';')
}

// eachPair calls f with each "key:value;" of payload.
func eachPair(packet string, payload []byte, f func(key, value string) error) error {
	for len(payload) > 0 {
		pair, rest, ok := bytes.Cut(payload, []byte{';'})
		if !ok {
			return malformed(packet, "reply does not end with ';'")
		}
		key, value, ok := bytes.Cut(pair, []byte{':'})
		if !ok {
			return malformed(packet, "expected key:value, got "+quoteBytes(pair))
		}
		if err := f(string(key), string(value)); err != nil {
			return err
		}
		payload = rest
	}
	return nil
}

func decimal(packet, key, value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, malformed(packet, key+": expected a decimal number")
	}
	return n, nil
}

func hexString(packet, key, value string) (string, error) {
	b, err := DecodeHex(nil, []byte(value))
	if err != nil {
		return "", malformed(packet, key+": expected hex")
	}
	return string(b), nil
}
