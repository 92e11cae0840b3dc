package rsp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// DefaultMaxPayload is the payload limit of a Reader made without one: the
// PacketSize a server advertises unless it is configured otherwise. gdb
// fits the whole framed packet, "$", payload, "#xx", into PacketSize, so a
// payload never exceeds it.
const DefaultMaxPayload = 0x4000

// FrameKind says what ReadFrame found on the wire.
type FrameKind uint8

// The kinds of frame (GDB manual, "Overview" and "Interrupts").
const (
	// FramePacket is "$payload#xx".
	FramePacket FrameKind = iota + 1
	// FrameNotification is "%payload#xx", sent by a server in non-stop
	// mode (GDB manual, "Notification Packets"). Only a Reader for a
	// server's output (ReaderOptions.FromServer) reports it.
	FrameNotification
	// FrameInterrupt is the byte 0x03 outside a packet: the user pressed
	// Ctrl-C.
	FrameInterrupt
	// FrameAck is '+': the peer received the last packet.
	FrameAck
	// FrameNak is '-': the peer wants the last packet again.
	FrameNak
)

// String returns a name for the value, for logs and messages.
func (k FrameKind) String() string {
	switch k {
	case FramePacket:
		return "packet"
	case FrameNotification:
		return "notification"
	case FrameInterrupt:
		return "interrupt"
	case FrameAck:
		return "ack"
	case FrameNak:
		return "nak"
	}
	return fmt.Sprintf("FrameKind(%d)", uint8(k))
}

// Frame is one unit read from the wire.
type Frame struct {
	Kind FrameKind
	// Payload is the packet or notification data between '$' (or '%') and
	// '#', escapes undone (and, from a server, run-length encoding
	// expanded). It aliases the Reader's buffer and stays valid only until
	// the next ReadFrame: parse or copy it before reading on.
	Payload []byte
}

// ChecksumError reports a packet whose checksum does not match its data.
// The reader has consumed the packet and reads on from the next byte; in
// ack mode the answer is '-', and the peer sends the packet again. The
// frame returned with it still holds the payload, for a caller in no-ack
// mode that prefers gdbserver's way: act on the packet anyway, since the
// peer will not send it again.
type ChecksumError struct {
	// Sent is the checksum the packet carried, or -1 if its two
	// characters were not hex digits.
	Sent     int
	Computed uint8
}

// Error implements error.
func (e *ChecksumError) Error() string {
	if e.Sent < 0 {
		return fmt.Sprintf("rsp: packet checksum is not two hex digits (computed %02x)", e.Computed)
	}
	return fmt.Sprintf("rsp: bad packet checksum %02x, computed %02x", e.Sent, e.Computed)
}

// OversizeError reports a packet whose payload is longer than the
// reader's limit (the PacketSize the server advertises). The reader
// discarded the packet up to and including its checksum without buffering
// it and reads on from the next byte. The packet arrived intact, so in ack
// mode it is acknowledged; the answer is the error reply Code.
type OversizeError struct {
	Limit  int   // the payload limit
	Length int64 // the payload's length, escapes undone
}

// Error implements error.
func (e *OversizeError) Error() string {
	return fmt.Sprintf("rsp: packet payload of %d bytes exceeds the limit of %d", e.Length, e.Limit)
}

// Code returns the error code to reply with: CodeTooLarge.
func (e *OversizeError) Code() ErrorCode { return CodeTooLarge }

// EscapeError reports a packet whose last byte before '#' is the escape
// '}', with no byte after it to escape (GDB manual, "Overview": the escape
// is followed by the escaped byte xor 0x20). The packet arrived intact, so
// in ack mode it is acknowledged; the reader has consumed it and reads on
// from the next byte; the answer is the error reply Code. The payload is
// not returned: a dangling escape taken as data would be written as a '}'.
type EscapeError struct {
	Offset int64 // the payload's length before the escape, escapes undone
}

// Error implements error.
func (e *EscapeError) Error() string {
	return fmt.Sprintf("rsp: packet ends in an escape '}' with nothing to escape (after %d payload bytes)", e.Offset)
}

// Code returns the error code to reply with: CodeInvalid.
func (e *EscapeError) Code() ErrorCode { return CodeInvalid }

// ReaderOptions configure a Reader.
type ReaderOptions struct {
	// MaxPayload is the longest payload accepted, escapes undone;
	// 0 means DefaultMaxPayload. A server sets it to the PacketSize it
	// advertises.
	MaxPayload int
	// FromServer says the stream carries a server's output: the reader
	// then expands run-length encoding and reports '%' notifications.
	// A server reading gdb leaves it false: gdb never run-length encodes,
	// and in its X and vFile:pwrite data '*' and '%' are plain bytes.
	FromServer bool
}

// Reader splits a byte stream into frames. It buffers its input, so it
// must be the only reader of the underlying stream. A Reader belongs to
// one goroutine; it is not safe for concurrent use. (Endpoint reads its
// frames with one; the server uses a Reader alone only to read the first
// packet of a client it refuses.)
//
// Memory stays bounded whatever the peer sends: the payload buffer grows
// to at most MaxPayload and is reused for every packet, so reading
// allocates nothing in the steady state.
type Reader struct {
	br         *bufio.Reader
	special    *[256]bool // bytes that end a run of plain payload bytes
	buf        []byte
	max        int
	fromServer bool
}

const readBufferSize = 4096

// The bytes a Reader must look at one by one: the end of the packet, the
// start of another, the escape, and from a server the run marker.
var specialInRequests, specialInReplies [256]bool

func init() {
	for _, c := range []byte("#$}") {
		specialInRequests[c] = true
		specialInReplies[c] = true
	}
	specialInReplies['*'] = true
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	max := opts.MaxPayload
	if max <= 0 {
		max = DefaultMaxPayload
	}
	special := &specialInRequests
	if opts.FromServer {
		special = &specialInReplies
	}
	return &Reader{
		br:         bufio.NewReaderSize(r, readBufferSize),
		special:    special,
		buf:        make([]byte, 0, min(max, 1024)),
		max:        max,
		fromServer: opts.FromServer,
	}
}

// MaxPayload returns the reader's payload limit.
func (r *Reader) MaxPayload() int { return r.max }

// ReadFrame returns the next frame. Bytes outside a packet other than '+',
// '-', 0x03 (and '%' from a server) are skipped. A '$' inside a packet
// abandons the packet (it was cut short: gdb escapes '$' in binary data)
// and starts a new one.
//
// Errors: *ChecksumError, *OversizeError and *EscapeError are about one
// packet, and the reader can go on; any other error comes from the stream (io.EOF between
// frames, io.ErrUnexpectedEOF inside one) and ends it.
func (r *Reader) ReadFrame() (Frame, error) {
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return Frame{}, err
		}
		switch c {
		case '$':
			return r.readPacket(FramePacket)
		case '%':
			if r.fromServer {
				return r.readPacket(FrameNotification)
			}
		case '+':
			return Frame{Kind: FrameAck}, nil
		case '-':
			return Frame{Kind: FrameNak}, nil
		case 0x03:
			return Frame{Kind: FrameInterrupt}, nil
		}
	}
}

// packetState decodes the bytes of one packet between its start character
// and '#'. Escapes ('}' then the byte xor 0x20) are undone as the bytes
// arrive; run-length encoding, when enabled, is expanded first, on the
// bytes as sent, as gdb does (remote.c read_frame expands runs before any
// packet unescapes its binary data).
type packetState struct {
	sum      uint8
	length   int64 // decoded length, also past the limit
	escape   bool  // the last byte sent was '}'
	star     bool  // the last byte sent was a '*' run marker
	prev     byte  // the last byte sent, repeated by a run
	havePrev bool
}

func (r *Reader) readPacket(kind FrameKind) (Frame, error) {
	r.buf = r.buf[:0]
	st := packetState{}
	for {
		chunk, err := r.fill()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, err
		}
		n := 0
		for n < len(chunk) {
			c := chunk[n]
			if !st.escape && !st.star && !r.special[c] {
				// The common case: a run of plain bytes.
				j := n + 1
				for j < len(chunk) && !r.special[chunk[j]] {
					j++
				}
				r.putPlain(&st, chunk[n:j])
				n = j
				continue
			}
			if c == '#' {
				break
			}
			n++
			if c == '$' {
				// A new packet starts: the current one was cut short.
				kind = FramePacket
				r.buf = r.buf[:0]
				st = packetState{}
				continue
			}
			st.sum += c
			if st.star {
				st.star = false
				if count := int(c) - 29; count > 0 && c <= '~' {
					for range count {
						r.put(&st, st.prev)
					}
					continue
				}
				// Not a run count: keep both bytes as data.
				r.put(&st, '*')
			} else if r.fromServer && c == '*' && st.havePrev && !st.escape {
				st.star = true
				continue
			}
			st.prev, st.havePrev = c, true
			r.put(&st, c)
		}
		done := n < len(chunk)
		if done {
			n++ // the '#'
		}
		if _, err := r.br.Discard(n); err != nil {
			return Frame{}, err
		}
		if done {
			break
		}
	}
	if st.star {
		r.put(&st, '*')
	}
	sent, err := r.readChecksum()
	if err != nil {
		return Frame{}, err
	}
	if sent != int(st.sum) {
		return Frame{Kind: kind, Payload: r.payload(&st)}, &ChecksumError{Sent: sent, Computed: st.sum}
	}
	if st.length > int64(r.max) {
		return Frame{Kind: kind}, &OversizeError{Limit: r.max, Length: st.length}
	}
	if st.escape {
		// The escape escapes nothing: the packet lost a byte on the way
		// or its sender is broken. Taking the '}' as data would write it
		// (X, vFile:pwrite) where the user meant something else.
		return Frame{Kind: kind}, &EscapeError{Offset: st.length}
	}
	return Frame{Kind: kind, Payload: r.buf}, nil
}

func (r *Reader) payload(st *packetState) []byte {
	if st.length > int64(r.max) {
		return nil
	}
	return r.buf
}

// putPlain stores bytes that need no decoding: no escape or run marker
// among them, none pending before them.
func (r *Reader) putPlain(st *packetState, b []byte) {
	st.sum += Checksum(b)
	st.prev, st.havePrev = b[len(b)-1], true
	room := int64(r.max) - st.length
	st.length += int64(len(b))
	if room <= 0 {
		return
	}
	if int64(len(b)) > room {
		b = b[:room]
	}
	if len(r.buf)+len(b) > cap(r.buf) {
		grown := make([]byte, len(r.buf), min(max(2*cap(r.buf)+64, len(r.buf)+len(b)), r.max))
		copy(grown, r.buf)
		r.buf = grown
	}
	r.buf = append(r.buf, b...)
}

// put feeds one byte as sent through the escape decoder.
func (r *Reader) put(st *packetState, c byte) {
	if st.escape {
		st.escape = false
		r.putDecoded(st, c^0x20)
		return
	}
	if c == '}' {
		st.escape = true
		return
	}
	r.putDecoded(st, c)
}

// putDecoded stores one payload byte, unless the payload is already over
// the limit: then it only counts, and memory stays bounded.
func (r *Reader) putDecoded(st *packetState, c byte) {
	st.length++
	if st.length > int64(r.max) {
		return
	}
	if len(r.buf) == cap(r.buf) {
		grown := make([]byte, len(r.buf), min(2*cap(r.buf)+64, r.max))
		copy(grown, r.buf)
		r.buf = grown
	}
	r.buf = append(r.buf, c)
}

// fill returns the buffered input, waiting for at least one byte.
func (r *Reader) fill() ([]byte, error) {
	if r.br.Buffered() == 0 {
		if _, err := r.br.Peek(1); err != nil {
			return nil, err
		}
	}
	return r.br.Peek(r.br.Buffered())
}

// readChecksum reads the two hex digits after '#'. It returns -1 for
// digits that are not hex; a '$' in their place is left unread, so that
// the next packet is not lost.
func (r *Reader) readChecksum() (int, error) {
	sum := 0
	for range 2 {
		c, err := r.br.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if c == '$' {
			_ = r.br.UnreadByte()
			return -1, nil
		}
		d := unhex(c)
		if d > 0xf {
			sum = -1
		}
		if sum >= 0 {
			sum = sum<<4 | int(d)
		}
	}
	return sum, nil
}

// Reset makes the reader read from src, dropping what it had buffered.
// A server that reads its sockets itself (with poll(2)) hands each whole
// frame to a Reader this way; see FrameSpan.
func (r *Reader) Reset(src io.Reader) { r.br.Reset(src) }

// FrameSpan returns the length of the first whole frame a client sent at
// the start of buf, junk bytes before it included: '+', '-', 0x03, or a
// packet up to its two checksum digits ('$' inside a packet abandons it,
// as ReadFrame does). A '$' in place of a checksum digit ends the packet
// before it, as ReadFrame leaves it unread: it starts the next one. It
// returns 0 when buf holds no whole frame yet, and pending is then the
// length of the packet begun in buf (0 if none), so that the caller can
// bound its buffer.
//
// ReadFrame reads exactly the n bytes, given one byte more when buf has
// it (to see that a '$' ends a packet without its checksum).
func FrameSpan(buf []byte) (n, pending int) {
	// Junk before a frame is skipped byte by byte; inside a packet the
	// search is for '#' (and a '$' before it), with bytes.IndexByte: a
	// 100 KiB X packet is scanned at memory speed, each time more of it
	// arrives.
	for i, c := range buf {
		switch c {
		case '+', '-', 0x03:
			return i + 1, 0
		case '$':
			start := i
			hash := bytes.IndexByte(buf[start+1:], '#')
			end := len(buf)
			if hash >= 0 {
				end = start + 1 + hash
			}
			// A '$' before the end starts the packet again.
			for {
				again := bytes.IndexByte(buf[start+1:end], '$')
				if again < 0 {
					break
				}
				start += 1 + again
			}
			switch {
			case hash < 0:
			case end+1 < len(buf) && buf[end+1] == '$':
				return end + 1, 0
			case end+2 < len(buf) && buf[end+2] == '$':
				return end + 2, 0
			case end+2 < len(buf):
				return end + 3, 0
			}
			return 0, len(buf) - start
		}
	}
	return 0, 0
}
