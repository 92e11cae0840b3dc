package rsp

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// ConnOptions configure a Conn.
type ConnOptions struct {
	// Reader configures the reading side: the payload limit, and whether
	// the peer is a server (FromServer).
	Reader ReaderOptions
}

// Conn is one end of an RSP connection with acknowledgments handled: it
// answers each packet with '+' (a bad checksum with '-') until no-ack mode
// starts, and sends the last packet again when the peer answers '-'.
//
// Ownership: ReadFrame belongs to one goroutine (the reader), the Write
// methods to one other (the writer). Conn is the only code that writes to
// the stream; its mutex orders the reader's acks with the writer's packets.
// An ack is written before ReadFrame returns its packet, so it always
// precedes the reply to that packet.
type Conn struct {
	rd    *Reader
	noAck atomic.Bool

	mu sync.Mutex // guards the fields below and every write to w
	w  io.Writer
	// last is the last packet written, framed, kept for a resend; empty
	// once acknowledged or in no-ack mode.
	last []byte
	wbuf []byte
	err  error // the first write error; the stream is dead after it
}

// NewConn returns a Conn over rw.
func NewConn(rw io.ReadWriter, opts ConnOptions) *Conn {
	return &Conn{rd: NewReader(rw, opts.Reader), w: rw}
}

// MaxPayload returns the payload limit of the reading side.
func (c *Conn) MaxPayload() int { return c.rd.MaxPayload() }

// SetNoAck stops acknowledgments in both directions. A server calls it
// after QStartNoAckMode was read (and acknowledged) and before it writes
// the OK reply: gdb still acknowledges that OK, and acks read in no-ack
// mode are ignored. A client calls it after it received the OK.
func (c *Conn) SetNoAck() {
	c.noAck.Store(true)
	c.mu.Lock()
	c.last = c.last[:0]
	c.mu.Unlock()
}

// NoAck reports whether no-ack mode is on.
func (c *Conn) NoAck() bool { return c.noAck.Load() }

// ReadFrame returns the next packet, notification or interrupt. Acks are
// consumed: '+' settles the last packet written, '-' sends it again.
//
// A packet with a bad checksum is answered '-' in ack mode and returned
// with its *ChecksumError in either mode, so that the caller can log it and
// read on (or, in no-ack mode, act on it as gdbserver does). A packet over
// the limit is acknowledged and returned with its *OversizeError, a packet
// ending in a dangling escape with its *EscapeError: reply with their Code. Any other error is the stream's, and final.
//
// The payload stays valid until the next ReadFrame.
func (c *Conn) ReadFrame() (Frame, error) {
	for {
		f, err := c.rd.ReadFrame()
		var cerr *ChecksumError
		var oerr *OversizeError
		var eerr *EscapeError
		switch {
		case errors.As(err, &cerr):
			if !c.NoAck() {
				if werr := c.writeRaw(nakBytes); werr != nil {
					return f, werr
				}
			}
			return f, err
		case errors.As(err, &oerr), errors.As(err, &eerr):
			if werr := c.ack(); werr != nil {
				return f, werr
			}
			return f, err
		case err != nil:
			return f, err
		}
		switch f.Kind {
		case FrameAck:
			c.mu.Lock()
			c.last = c.last[:0]
			c.mu.Unlock()
			continue
		case FrameNak:
			if err := c.resend(); err != nil {
				return Frame{}, err
			}
			continue
		case FramePacket:
			if err := c.ack(); err != nil {
				return Frame{}, err
			}
		}
		return f, nil
	}
}

var (
	ackBytes       = []byte{'+'}
	nakBytes       = []byte{'-'}
	interruptBytes = []byte{0x03}
)

func (c *Conn) ack() error {
	if c.NoAck() {
		return nil
	}
	return c.writeRaw(ackBytes)
}

func (c *Conn) resend() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.last) == 0 || c.noAck.Load() {
		return nil
	}
	return c.writeLocked(c.last)
}

// WritePacket frames payload as "$payload#xx" and writes it. Binary data
// in payload must already be escaped.
func (c *Conn) WritePacket(payload []byte) error {
	return c.writeFramed(func(dst []byte) []byte { return AppendFrame(dst, payload) })
}

// WritePacketRLE writes payload run-length encoded; for hex and text
// replies only (see AppendFrameRLE).
func (c *Conn) WritePacketRLE(payload []byte) error {
	return c.writeFramed(func(dst []byte) []byte { return AppendFrameRLE(dst, payload) })
}

// WriteNotification writes the notification "%payload#xx". Notifications
// are never acknowledged.
func (c *Conn) WriteNotification(payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wbuf = AppendNotification(c.wbuf[:0], payload)
	return c.writeLocked(c.wbuf)
}

// WriteInterrupt writes the interrupt byte 0x03 (the client side of
// Ctrl-C).
func (c *Conn) WriteInterrupt() error { return c.writeRaw(interruptBytes) }

// WriteRaw writes b as it is, outside any framing: for tests that send
// malformed input.
func (c *Conn) WriteRaw(b []byte) error { return c.writeRaw(b) }

func (c *Conn) writeFramed(build func([]byte) []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noAck.Load() {
		c.wbuf = build(c.wbuf[:0])
		return c.writeLocked(c.wbuf)
	}
	c.last = build(c.last[:0])
	return c.writeLocked(c.last)
}

func (c *Conn) writeRaw(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeLocked(b)
}

func (c *Conn) writeLocked(b []byte) error {
	if c.err != nil {
		return c.err
	}
	if _, err := c.w.Write(b); err != nil {
		c.err = err
		return err
	}
	return nil
}
