package rsp

import "errors"

// Writer-side framing and the data encodings of the protocol (GDB manual,
// "Overview" in "Remote Protocol"). Every function appends to dst and
// returns the extended slice, as strconv.AppendInt does: given a dst with
// enough capacity, none of them allocates.

const hexDigits = "0123456789abcdef"

var (
	errOddHex = errors.New("rsp: odd number of hex digits")
	errBadHex = errors.New("rsp: bad hex digit")
)

// Checksum returns the packet checksum of payload: the sum of its bytes
// modulo 256, computed over the bytes as they are sent (escaped and
// run-length encoded).
func Checksum(payload []byte) uint8 {
	// Eight bytes at a time: the bytes of each word are added in four
	// 16-bit lanes (a lane takes 128 words, 2 x 255 each, before it
	// could carry), and the lanes are folded into one byte at the end.
	// 10 GB/s here, against 1.2 for a byte loop: large X and vFile
	// packets are summed as they arrive.
	var lanes, s uint64
	const lo = 0x00ff00ff00ff00ff
	n := 0
	for len(payload)-n >= 8 {
		stop := min(len(payload)-7, n+8*128)
		for ; n < stop; n += 8 {
			b := payload[n : n+8 : n+8]
			w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
				uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
			lanes += w&lo + w>>8&lo
		}
		s += lanes&0xffff + lanes>>16&0xffff + lanes>>32&0xffff + lanes>>48
		lanes = 0
	}
	for _, b := range payload[n:] {
		s += uint64(b)
	}
	return uint8(s)
}

func appendHexByte(dst []byte, b byte) []byte {
	return append(dst, hexDigits[b>>4], hexDigits[b&0xf])
}

// AppendFrame appends the packet "$payload#xx" (xx the checksum in lower
// case hex). The payload is copied as is: escape binary data with
// AppendEscaped first.
func AppendFrame(dst, payload []byte) []byte {
	return appendFrame(dst, '$', payload)
}

// AppendNotification appends the notification "%payload#xx" (GDB manual,
// "Notification Packets"); non-stop mode sends stop events this way.
func AppendNotification(dst, payload []byte) []byte {
	return appendFrame(dst, '%', payload)
}

func appendFrame(dst []byte, start byte, payload []byte) []byte {
	dst = append(dst, start)
	dst = append(dst, payload...)
	dst = append(dst, '#')
	return appendHexByte(dst, Checksum(payload))
}

// Run-length encoding (GDB manual, "Overview"): a run of one byte repeated
// n more times is sent as the byte, '*', and the character n+29. Counts
// below 3 do not pay; the count character must be printable (at most '~',
// so n <= 97) and must not be '#' or '$' (n = 6, 7), which would end or
// start a packet. '+' and '-' (n = 14, 16) are avoided too, as the manual
// asks, so that a confused reader never takes the count for an ack.
const (
	rleMinRun = 3
	rleMaxRun = '~' - 29
)

func rleCount(n int) int {
	if n > rleMaxRun {
		n = rleMaxRun
	}
	for n+29 == '#' || n+29 == '$' || n+29 == '+' || n+29 == '-' {
		n--
	}
	return n
}

// rleSafe reports whether b may start a run. The protocol's own
// punctuation never does: a run of '*' or '}' would read as an escape or a
// count.
func rleSafe(b byte) bool {
	switch b {
	case '$', '#', '*', '}':
		return false
	}
	return true
}

// AppendFrameRLE appends the packet "$payload#xx" with runs in payload
// run-length encoded. Use it for hex and text replies only (g, m, stop
// replies): binary replies (qXfer, vFile, X) must go through AppendFrame,
// because Delve's client does not decode run-length encoding in binary data.
func AppendFrameRLE(dst, payload []byte) []byte {
	dst = append(dst, '$')
	start := len(dst)
	for i := 0; i < len(payload); {
		b := payload[i]
		j := i + 1
		for j < len(payload) && payload[j] == b {
			j++
		}
		more := j - i - 1 // repeats after the first
		dst = append(dst, b)
		i++
		for more > 0 {
			n := rleCount(more)
			if n < rleMinRun || !rleSafe(b) {
				for ; more > 0; more-- {
					dst = append(dst, b)
					i++
				}
				break
			}
			dst = append(dst, '*', byte(n+29))
			i += n
			more -= n
			if more > 0 { // start the next run with a literal byte
				dst = append(dst, b)
				i++
				more--
			}
		}
	}
	sum := Checksum(dst[start:])
	dst = append(dst, '#')
	return appendHexByte(dst, sum)
}

// escapeByte reports whether b must be escaped in binary data: '#' and '$'
// frame packets, '}' is the escape itself, and '*' would be taken for
// run-length encoding by gdb, which decodes it in every reply (GDB manual,
// "Overview": "Binary data").
func escapeByte(b byte) bool {
	return b == '#' || b == '$' || b == '}' || b == '*'
}

// AppendEscaped appends binary data escaped for the wire: each of '#', '$',
// '}' and '*' is sent as '}' followed by the byte xor 0x20.
func AppendEscaped(dst, data []byte) []byte {
	for _, b := range data {
		if escapeByte(b) {
			dst = append(dst, '}', b^0x20)
		} else {
			dst = append(dst, b)
		}
	}
	return dst
}

// appendEscapedString is AppendEscaped for text fields sent as they are
// (qSupported features, qXfer annexes): whatever bytes they hold, the
// packet stays well framed.
func appendEscapedString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if b := s[i]; escapeByte(b) {
			dst = append(dst, '}', b^0x20)
		} else {
			dst = append(dst, b)
		}
	}
	return dst
}

// EscapedLen returns the length of data once escaped, so that a reply can
// be cut to fit the packet size before it is built.
func EscapedLen(data []byte) int {
	n := len(data)
	for _, b := range data {
		if escapeByte(b) {
			n++
		}
	}
	return n
}

// AppendHex appends data as two lower-case hex digits per byte.
func AppendHex(dst, data []byte) []byte {
	for _, b := range data {
		dst = appendHexByte(dst, b)
	}
	return dst
}

// AppendHexString appends the bytes of s as hex, as qRcmd output, O
// packets and hex-encoded file names are sent.
func AppendHexString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = appendHexByte(dst, s[i])
	}
	return dst
}

// AppendUint appends v as a hex number without leading zeros (0 is "0"),
// the form of addresses, lengths and ids on the wire.
func AppendUint(dst []byte, v uint64) []byte {
	if v == 0 {
		return append(dst, '0')
	}
	var buf [16]byte
	i := len(buf)
	for v != 0 {
		i--
		buf[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return append(dst, buf[i:]...)
}

// appendInt appends v in hex with a leading '-' when negative: thread
// ids (-1), and the results of vFile replies.
func appendInt(dst []byte, v int64) []byte {
	if v < 0 {
		dst = append(dst, '-')
		return AppendUint(dst, uint64(-v))
	}
	return AppendUint(dst, uint64(v))
}

// unhex returns the value of one hex digit, or 0xff.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// DecodeHex appends the bytes that the hex string src encodes to dst. It
// fails on an odd length or a non-hex digit, leaving dst as it was.
func DecodeHex(dst, src []byte) ([]byte, error) {
	if len(src)%2 != 0 {
		return dst, errOddHex
	}
	n := len(dst)
	for i := 0; i < len(src); i += 2 {
		hi, lo := unhex(src[i]), unhex(src[i+1])
		if hi > 0xf || lo > 0xf {
			return dst[:n], errBadHex
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, nil
}
