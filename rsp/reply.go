package rsp

// Reply builders (GDB manual, "Standard Replies" and each packet's
// "Reply:"). Like the encoders, they append a payload to dst; frame it with
// AppendFrame (binary replies) or AppendFrameRLE (hex and text replies).

// AppendOK appends "OK".
func AppendOK(dst []byte) []byte { return append(dst, "OK"...) }

// AppendError appends the error reply "E NN".
func AppendError(dst []byte, code ErrorCode) []byte {
	dst = append(dst, 'E')
	return appendHexByte(dst, byte(code))
}

// AppendErrorMessage appends the textual error reply "E.message" (GDB
// manual, "Standard Replies": E.errtext). gdb prints it where it shows a
// failed packet's reply (qSupported, G, P, a resume); elsewhere it takes
// it as any error. Bytes the framing reserves ('$', '#', '}', '*') and
// bytes outside printable ASCII become '?': the text is for people.
func AppendErrorMessage(dst []byte, msg string) []byte {
	dst = append(dst, 'E', '.')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c < 0x20 || c > 0x7e || c == '$' || c == '#' || c == '}' || c == '*' {
			c = '?'
		}
		dst = append(dst, c)
	}
	return dst
}

// ParseErrorMessage returns the text of a textual error reply
// "E.message"; ok is false for any other payload.
func ParseErrorMessage(payload []byte) (msg string, ok bool) {
	if len(payload) < 2 || payload[0] != 'E' || payload[1] != '.' {
		return "", false
	}
	return string(payload[2:]), true
}

// AppendUnavailable appends "xx" for each of n bytes of a register whose
// value is unavailable, in a g or p reply.
func AppendUnavailable(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, 'x', 'x')
	}
	return dst
}

// AppendXferReply appends a qXfer read reply: 'm' and a piece of the
// object when more follows, 'l' and the last piece (possibly empty). The
// piece is binary and escaped.
func AppendXferReply(dst, piece []byte, last bool) []byte {
	if last {
		dst = append(dst, 'l')
	} else {
		dst = append(dst, 'm')
	}
	return AppendEscaped(dst, piece)
}

// XferPiece returns the part of obj that a qXfer read of length bytes at
// offset asks for, and whether it reaches the end of obj.
func XferPiece(obj []byte, offset uint64, length int) (piece []byte, last bool) {
	if offset >= uint64(len(obj)) {
		return nil, true
	}
	rest := obj[offset:]
	if length >= len(rest) {
		return rest, true
	}
	return rest[:length], false
}

// EscapedFit returns how many leading bytes of data fit in room bytes once
// escaped, so that a binary reply can be cut to the packet size.
func EscapedFit(data []byte, room int) int {
	n := 0
	for i, b := range data {
		w := 1
		if escapeByte(b) {
			w = 2
		}
		if n+w > room {
			return i
		}
		n += w
	}
	return len(data)
}

// AppendFileResult appends the Host I/O reply "F result": a file
// descriptor, a count of bytes written, or 0.
func AppendFileResult(dst []byte, result int64) []byte {
	dst = append(dst, 'F')
	return appendInt(dst, result)
}

// AppendFileError appends the Host I/O failure "F-1,errno", errno a GDB
// File-I/O errno value ("Errno Values" in the GDB manual), not the host's.
func AppendFileError(dst []byte, errno int) []byte {
	dst = append(dst, "F-1,"...)
	return appendInt(dst, int64(errno))
}

// AppendFileData appends the Host I/O reply "F len;data" of vFile:pread,
// vFile:fstat and vFile:readlink, data binary and escaped.
func AppendFileData(dst, data []byte) []byte {
	dst = append(dst, 'F')
	dst = AppendUint(dst, uint64(len(data)))
	dst = append(dst, ';')
	return AppendEscaped(dst, data)
}

// AppendSupported appends a qSupported reply: the server's features,
// separated by ';' ("PacketSize=4000;qXfer:features:read+;...").
func AppendSupported(dst []byte, features []Feature) []byte {
	for i, f := range features {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = f.AppendTo(dst)
	}
	return dst
}

// PacketSizeFeature returns the qSupported feature "PacketSize=size" (in
// hex): the longest packet the server accepts, which must be the
// MaxPayload of its Reader.
func PacketSizeFeature(size int) Feature {
	return Feature{Name: "PacketSize", State: FeatureValue, Value: string(AppendUint(nil, uint64(size)))}
}

// AppendThreadList appends a qfThreadInfo or qsThreadInfo reply: "m" and
// the ids separated by ',', or "l" (end of the list) for none.
func AppendThreadList(dst []byte, ids []ThreadID) []byte {
	if len(ids) == 0 {
		return append(dst, 'l')
	}
	dst = append(dst, 'm')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = id.AppendTo(dst)
	}
	return dst
}

// AppendCurrentThread appends the qC reply "QC id".
func AppendCurrentThread(dst []byte, id ThreadID) []byte {
	dst = append(dst, "QC"...)
	return id.AppendTo(dst)
}

// AppendResumeActions appends the vCont? reply "vCont;c;C;s;S...": each
// kind given adds its actions (ResumeContinue "c;C", ResumeStep "s;S",
// ResumeStop "t", ResumeRangeStep "r"). The manual requires c and C.
func AppendResumeActions(dst []byte, kinds ...ResumeKind) []byte {
	dst = append(dst, "vCont"...)
	for _, k := range kinds {
		switch k {
		case ResumeContinue:
			dst = append(dst, ";c;C"...)
		case ResumeStep:
			dst = append(dst, ";s;S"...)
		case ResumeStop:
			dst = append(dst, ";t"...)
		case ResumeRangeStep:
			dst = append(dst, ";r"...)
		}
	}
	return dst
}

// AppendAttached appends the qAttached reply: "1" if the server attached
// to the process, "0" if it started it.
func AppendAttached(dst []byte, attached bool) []byte {
	if attached {
		return append(dst, '1')
	}
	return append(dst, '0')
}

// AppendSymbolLookup appends "qSymbol:name", name hex-encoded: the reply
// to qSymbol that asks gdb for a symbol's value.
func AppendSymbolLookup(dst []byte, name string) []byte {
	dst = append(dst, "qSymbol:"...)
	return AppendHexString(dst, name)
}

// AppendConsoleOutput appends the console output packet "O hex" (GDB
// manual, "Stop Reply Packets"). gdb prints it only while it waits for a
// stop reply or for the reply to qRcmd; at any other time it breaks the
// session.
func AppendConsoleOutput(dst []byte, text string) []byte {
	dst = append(dst, 'O')
	return AppendHexString(dst, text)
}

// DecodeConsoleOutput returns the text of a console output packet "O hex";
// ok is false for any other payload, "OK" included.
func DecodeConsoleOutput(payload []byte) (text []byte, ok bool) {
	if len(payload) < 3 || payload[0] != 'O' {
		return nil, false
	}
	text, err := DecodeHex(nil, payload[1:])
	if err != nil {
		return nil, false
	}
	return text, true
}

// ParseErrorReply returns the code of an error reply "E NN"; ok is false
// for any other payload, gdbserver's textual "E.message" included.
func ParseErrorReply(payload []byte) (code ErrorCode, ok bool) {
	if len(payload) != 3 || payload[0] != 'E' {
		return 0, false
	}
	hi, lo := unhex(payload[1]), unhex(payload[2])
	if hi > 0xf || lo > 0xf {
		return 0, false
	}
	return ErrorCode(hi<<4 | lo), true
}
