package rsp

// qXfer: objects read (and written) in pieces (GDB manual, "General Query
// Packets", qXfer).

// XferObject names the object of a qXfer packet.
type XferObject uint8

// The objects rsp parses. A qXfer packet for any other object is Unknown,
// which tells gdb the object is not supported.
const (
	XferFeatures      XferObject = iota + 1 // "features": target.xml and the files it includes
	XferAuxv                                // "auxv": the auxiliary vector
	XferExecFile                            // "exec-file": the program's path; annex a pid in hex, or empty
	XferLibrariesSVR4                       // "libraries-svr4": the dynamic linker's list
	XferThreads                             // "threads": the thread list as XML
	XferSiginfo                             // "siginfo": the stopped thread's siginfo_t, also writable
	XferOSData                              // "osdata": `info os` tables; annex the table's type, or empty for the list
)

var xferNames = [...]string{
	XferFeatures:      "features",
	XferAuxv:          "auxv",
	XferExecFile:      "exec-file",
	XferLibrariesSVR4: "libraries-svr4",
	XferThreads:       "threads",
	XferSiginfo:       "siginfo",
	XferOSData:        "osdata",
}

// String returns the object's wire name.
func (o XferObject) String() string {
	if int(o) < len(xferNames) && xferNames[o] != "" {
		return xferNames[o]
	}
	return "XferObject(?)"
}

// xferObject maps a table name "qXfer:OBJECT:read" to its object.
func xferObject(packet string) XferObject {
	for o, n := range xferNames {
		if n == "" {
			continue
		}
		if len(packet) > 6+len(n) && packet[6:6+len(n)] == n && packet[6+len(n)] == ':' {
			return XferObject(o)
		}
	}
	return 0
}

// ReadXfer is "qXfer:object:read:annex:offset,length" (GDB manual,
// "General Query Packets"). Reply with AppendXferReply: 'm' and a piece
// when more follows, 'l' and the last piece (possibly empty).
type ReadXfer struct {
	Object XferObject
	Annex  string // "target.xml" for features; a pid for exec-file; else empty
	Offset uint64
	Length int
}

// PacketName returns "qXfer:OBJECT:read".
func (r *ReadXfer) PacketName() string { return xferPacketName(r.Object, ":read") }

// xferPacketName finds the packet's name in the table rather than
// building it, so that logging a request costs nothing.
func xferPacketName(o XferObject, op string) string {
	for _, d := range packetTable {
		if xferObject(d.name) == o && len(d.name) > len(op) && d.name[len(d.name)-len(op):] == op {
			return d.name
		}
	}
	return "qXfer:" + o.String() + op
}

// AppendPayload implements Request.
func (r *ReadXfer) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qXfer:"...)
	dst = append(dst, r.Object.String()...)
	dst = append(dst, ":read:"...)
	dst = appendEscapedString(dst, r.Annex)
	dst = append(dst, ':')
	dst = AppendUint(dst, r.Offset)
	dst = append(dst, ',')
	return AppendUint(dst, uint64(r.Length))
}

// annexString returns the annex as a string without allocating for the
// annexes gdb sends most.
func annexString(p *Parser, b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "target.xml":
		return "target.xml"
	}
	return p.arena.string(b)
}

func parseReadXfer(p *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	annex, rest, found := cutByte(args[1:], ':')
	if !found {
		return nil, malformed(name, "expected annex:offset,length")
	}
	offset, length, ok := parseAddrLength(rest)
	if !ok {
		return nil, malformed(name, "expected offset,length in hex")
	}
	return &ReadXfer{Object: xferObject(name), Annex: annexString(p, annex), Offset: offset, Length: length}, nil
}

// WriteXfer is "qXfer:object:write:annex:offset:data" (GDB manual,
// "General Query Packets"), data binary and escaped on the wire; rsp
// parses it for siginfo. Reply with the number of bytes written in hex
// (AppendUint).
type WriteXfer struct {
	Object XferObject
	Annex  string
	Offset uint64
	Data   []byte
}

// PacketName returns "qXfer:OBJECT:write".
func (w *WriteXfer) PacketName() string { return xferPacketName(w.Object, ":write") }

// AppendPayload implements Request.
func (w *WriteXfer) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qXfer:"...)
	dst = append(dst, w.Object.String()...)
	dst = append(dst, ":write:"...)
	dst = appendEscapedString(dst, w.Annex)
	dst = append(dst, ':')
	dst = AppendUint(dst, w.Offset)
	dst = append(dst, ':')
	return AppendEscaped(dst, w.Data)
}

func parseWriteXfer(p *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	annex, rest, found1 := cutByte(args[1:], ':')
	off, data, found2 := cutByte(rest, ':')
	if !found1 || !found2 {
		return nil, malformed(name, "expected annex:offset:data")
	}
	offset, ok := parseHex(off)
	if !ok {
		return nil, malformed(name, "bad offset")
	}
	return &WriteXfer{Object: xferObject(name), Annex: annexString(p, annex), Offset: offset, Data: p.arena.copy(data)}, nil
}
