package rsp

import (
	"bytes"
	"errors"
)

// Endpoint is one end of an RSP connection without its I/O: the bytes
// read from the peer are given to it, and the frames taken out; the
// packets sent are framed into its output, which its owner writes. It
// does everything between bytes and frames: finding frames in the input
// (junk between them dropped as it arrives), acknowledgments ('+' for
// each packet, '-' for a bad checksum, the last packet sent again when
// the peer answers '-') until no-ack mode, and the refusal of a packet
// too long to keep, read to its end without being kept. This is the only
// framing and acknowledgment code: the server drives an Endpoint with
// non-blocking sockets and poll(2), and Conn (tests, tools) with a
// blocking stream.
//
// Memory is bounded whatever the peer sends: the input never grows past
// one whole frame of MaxPayload bytes escaped (MaxInput); the output
// holds what the owner sent and has not written yet.
//
// An Endpoint belongs to one goroutine.
type Endpoint struct {
	fromServer bool
	maxPayload int
	maxInput   int

	in         []byte // read, not yet framed; at most maxInput
	discarding bool   // inside a packet too long to keep, until its '#xx'
	rd         *Reader
	src        bytes.Reader

	noAck  bool
	out    []byte // framed bytes to write, in order, from outOff on
	outOff int
	// last is the last packet sent while acknowledgments are on, framed,
	// for a resend; its bytes may still be in out.
	last []byte
}

// EndpointOptions configure an Endpoint.
type EndpointOptions struct {
	// MaxPayload is the longest payload accepted, escapes undone; 0
	// means DefaultMaxPayload. A server sets it to the PacketSize it
	// advertises.
	MaxPayload int
	// FromServer says the peer is a server: run-length encoding is
	// expanded and '%' notifications are reported (see ReaderOptions).
	FromServer bool
}

// endpointChunk is the least free space Space offers while the input
// has room: a read of a large packet goes straight into the buffer.
const endpointChunk = 16384

// NewEndpoint returns an Endpoint with acknowledgments on.
func NewEndpoint(opts EndpointOptions) *Endpoint {
	e := &Endpoint{fromServer: opts.FromServer, maxPayload: opts.MaxPayload}
	if e.maxPayload <= 0 {
		e.maxPayload = DefaultMaxPayload
	}
	e.maxInput = MaxFrameLen(e.maxPayload)
	e.rd = NewReader(&e.src, ReaderOptions{MaxPayload: e.maxPayload, FromServer: opts.FromServer})
	return e
}

// MaxFrameLen is the longest a frame of payloads of up to maxPayload
// bytes can be on the wire: '$', every byte escaped, '#' and two
// checksum digits. An Endpoint keeps no more input than that.
func MaxFrameLen(maxPayload int) int { return 1 + 2*maxPayload + 3 }

// Space returns free room at the end of the input for the owner to read
// into, then report with Filled: empty while the input holds a whole
// frame's worth (take frames with Next first).
func (e *Endpoint) Space() []byte {
	room := e.maxInput - len(e.in)
	if room <= 0 {
		return nil
	}
	if free := cap(e.in) - len(e.in); free < min(endpointChunk, room) {
		grown := make([]byte, len(e.in), min(max(2*cap(e.in), len(e.in)+endpointChunk), e.maxInput))
		copy(grown, e.in)
		e.in = grown
	}
	return e.in[len(e.in):min(cap(e.in), e.maxInput)]
}

// Filled adds n bytes read into Space to the input.
func (e *Endpoint) Filled(n int) { e.in = e.in[:len(e.in)+n] }

// Buffered is how many bytes of input wait to be framed.
func (e *Endpoint) Buffered() int { return len(e.in) }

// HasFrame says whether Next would return a frame or an error now (the
// input holds a whole frame, or a packet that must be refused): a paused
// owner holds such input back.
func (e *Endpoint) HasFrame() bool {
	if len(e.in) == 0 {
		return false
	}
	if e.discarding {
		return bytes.IndexByte(e.in, '#') >= 0
	}
	n, pending := FrameSpan(e.in)
	return n > 0 || pending >= e.maxInput
}

// Next takes the next frame out of the input: a packet, a notification
// (from a server) or an interrupt. Acknowledgments from the peer are
// consumed here ('-' queues the last packet again); while acknowledgments
// are on, a packet is answered '+' and a packet with a bad checksum '-'.
// ok is false when the input holds no whole frame yet.
//
// A frame the owner must answer with an error comes with it: an
// *OversizeError (the packet was too long: it is read to its end without
// being kept) or an *EscapeError; reply with their Code. A
// *ChecksumError comes with the frame it spoiled, for the log: the peer
// sends it again (in no-ack mode gdbserver acts on it anyway; the frame's
// payload is there for that).
//
// The payload stays valid until the next Next.
func (e *Endpoint) Next() (f Frame, err error, ok bool) {
	for len(e.in) > 0 {
		if e.discarding {
			// Drop the rest of an oversized packet, up to its checksum.
			i := bytes.IndexByte(e.in, '#')
			if i < 0 || i+2 >= len(e.in) {
				// Keep no more than the '#' and what came of its
				// checksum: input that fills up waiting for the
				// checksum would stall the connection.
				if i < 0 {
					e.in = e.in[:0]
				} else {
					e.consume(i)
				}
				return Frame{}, nil, false
			}
			e.consume(i + 3)
			e.discarding = false
			continue
		}
		n, pending := FrameSpan(e.in)
		if n == 0 {
			// What comes before the packet begun (all of it when none
			// has) is no frame: dropped now, it costs nothing however
			// much of it comes.
			if skip := len(e.in) - pending; skip > 0 {
				e.consume(skip)
			}
			if pending < e.maxInput {
				return Frame{}, nil, false
			}
			// Longer than any frame of MaxPayload: refused without
			// keeping it.
			e.discarding = true
			e.in = e.in[:0]
			e.ack()
			return Frame{Kind: FramePacket}, &OversizeError{Limit: e.maxPayload, Length: int64(pending)}, true
		}
		// One byte more than the frame: a '$' that cut its checksum
		// short is seen, and left for the next frame (FrameSpan).
		e.src.Reset(e.in[:min(n+1, len(e.in))])
		e.rd.Reset(&e.src)
		f, err := e.rd.ReadFrame()
		e.consume(n)
		if f, err, ok := e.frame(f, err); ok {
			return f, err, true
		}
	}
	return Frame{}, nil, false
}

// frame handles one frame read: acknowledgments, and what goes to the
// owner.
func (e *Endpoint) frame(f Frame, err error) (Frame, error, bool) {
	var ce *ChecksumError
	var oe *OversizeError
	var ee *EscapeError
	switch {
	case errors.As(err, &oe), errors.As(err, &ee):
		e.ack()
		return Frame{Kind: FramePacket}, err, true
	case errors.As(err, &ce):
		if !e.noAck {
			e.out = append(e.out, '-')
		}
		return f, err, true
	case err != nil:
		return Frame{}, nil, false // junk ReadFrame skipped: nothing whole
	}
	switch f.Kind {
	case FrameAck:
		e.last = e.last[:0]
		return Frame{}, nil, false
	case FrameNak:
		if !e.noAck && len(e.last) > 0 {
			e.out = append(e.out, e.last...)
		}
		return Frame{}, nil, false
	case FramePacket:
		e.ack()
	}
	return f, nil, true
}

// consume drops the first n bytes of the input.
func (e *Endpoint) consume(n int) { e.in = e.in[:copy(e.in, e.in[n:])] }

// ack queues '+' while acknowledgments are on.
func (e *Endpoint) ack() {
	if !e.noAck {
		e.out = append(e.out, '+')
	}
}

// SetNoAck ends acknowledgments in both directions. A server calls it
// once it has taken QStartNoAckMode (already acknowledged) and before it
// sends its OK: gdb still acknowledges that OK, and acknowledgments that
// come in no-ack mode are ignored. A client calls it once it has the OK.
func (e *Endpoint) SetNoAck() {
	e.noAck = true
	e.last = nil
}

// NoAck says whether acknowledgments have ended.
func (e *Endpoint) NoAck() bool { return e.noAck }

// compact moves what waits to be written to the front of the output,
// once what was written is the larger part, so that writing a large
// output piece by piece costs linear time.
func (e *Endpoint) compact() {
	if e.outOff > 0 && e.outOff >= len(e.out)-e.outOff {
		e.out = e.out[:copy(e.out, e.out[e.outOff:])]
		e.outOff = 0
	}
}

// Send frames payload as "$payload#xx" into the output. Binary data in
// payload must already be escaped.
func (e *Endpoint) Send(payload []byte) {
	e.compact()
	start := len(e.out)
	e.out = AppendFrame(e.out, payload)
	e.keep(start)
}

// SendRLE is Send with run-length encoding, for hex and text replies
// only (see AppendFrameRLE).
func (e *Endpoint) SendRLE(payload []byte) {
	e.compact()
	start := len(e.out)
	e.out = AppendFrameRLE(e.out, payload)
	e.keep(start)
}

// keep keeps the packet framed at out[start:] for a resend.
func (e *Endpoint) keep(start int) {
	if !e.noAck {
		e.last = append(e.last[:0], e.out[start:]...)
	}
}

// SendNotification frames payload as "%payload#xx": notifications are
// never acknowledged, nor sent again.
func (e *Endpoint) SendNotification(payload []byte) {
	e.out = AppendNotification(e.out, payload)
}

// SendInterrupt queues the interrupt byte 0x03 (a client's Ctrl-C).
func (e *Endpoint) SendInterrupt() { e.out = append(e.out, 0x03) }

// SendRaw queues b as it is, outside any framing: for tests that send
// malformed input.
func (e *Endpoint) SendRaw(b []byte) { e.out = append(e.out, b...) }

// Output is what waits to be written, in order.
func (e *Endpoint) Output() []byte { return e.out[e.outOff:] }

// Wrote drops the first n bytes of the output, which the owner wrote.
func (e *Endpoint) Wrote(n int) {
	e.outOff += n
	if e.outOff >= len(e.out) {
		e.out, e.outOff = e.out[:0], 0
	}
}

// Release drops the buffers of an Endpoint whose connection has ended.
func (e *Endpoint) Release() {
	e.in, e.out, e.outOff, e.last = nil, nil, 0, nil
}
