package rsp

import (
	"io"
	"sync"
)

// ConnOptions configure a Conn.
type ConnOptions struct {
	// Reader configures the reading side: the payload limit, and whether
	// the peer is a server (FromServer).
	Reader ReaderOptions
}

// Conn is an Endpoint over a blocking stream, for tests and tools (the
// server drives its Endpoints itself, without blocking): one end of an
// RSP connection with acknowledgments handled (each packet answered '+',
// a bad checksum '-', until no-ack mode; the last packet sent again when
// the peer answers '-').
//
// Ownership: ReadFrame belongs to one goroutine; the Write methods may be
// called from another (a test that reads notifications while it sends).
// The Endpoint is behind a mutex, held while its output is written, so
// that an acknowledgment is written before ReadFrame returns its packet
// and always precedes the reply to it; the read from the stream is made
// without it.
type Conn struct {
	rw io.ReadWriter
	// rbuf is what the last read from rw gave beyond what the Endpoint
	// could take (it keeps one frame's worth): read in chunks, as a
	// bufio.Reader would, so that a peer's write of a long packet is
	// taken whole (net.Pipe waits for that). Reader's only.
	rbuf    []byte
	pending []byte

	mu  sync.Mutex // guards e and every write to rw
	e   *Endpoint
	err error // the first write error; the stream is dead after it
}

// NewConn returns a Conn over rw.
func NewConn(rw io.ReadWriter, opts ConnOptions) *Conn {
	return &Conn{rw: rw, e: NewEndpoint(EndpointOptions{MaxPayload: opts.Reader.MaxPayload, FromServer: opts.Reader.FromServer})}
}

// MaxPayload returns the payload limit of the reading side.
func (c *Conn) MaxPayload() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.e.maxPayload
}

// SetNoAck stops acknowledgments in both directions (Endpoint.SetNoAck).
func (c *Conn) SetNoAck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.e.SetNoAck()
}

// NoAck reports whether no-ack mode is on.
func (c *Conn) NoAck() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.e.NoAck()
}

// ReadFrame returns the next packet, notification or interrupt, with the
// errors Endpoint.Next gives (a *ChecksumError with its frame, an
// *OversizeError, an *EscapeError), or the stream's error, which is
// final. The payload stays valid until the next ReadFrame.
func (c *Conn) ReadFrame() (Frame, error) {
	for {
		c.mu.Lock()
		f, ferr, ok := c.e.Next()
		werr := c.flush()
		if !ok && len(c.pending) > 0 {
			n := copy(c.e.Space(), c.pending)
			c.e.Filled(n)
			c.pending = c.pending[n:]
			c.mu.Unlock()
			if werr != nil {
				return Frame{}, werr
			}
			continue
		}
		c.mu.Unlock()
		if werr != nil {
			return Frame{}, werr
		}
		if ok {
			return f, ferr
		}
		if c.rbuf == nil {
			c.rbuf = make([]byte, readBufferSize)
		}
		n, err := c.rw.Read(c.rbuf)
		c.pending = c.rbuf[:n]
		if err != nil && n == 0 {
			return Frame{}, err
		}
	}
}

// WritePacket frames payload as "$payload#xx" and writes it. Binary data
// in payload must already be escaped.
func (c *Conn) WritePacket(payload []byte) error {
	return c.write(func(e *Endpoint) { e.Send(payload) })
}

// WritePacketRLE writes payload run-length encoded; for hex and text
// replies only (see AppendFrameRLE).
func (c *Conn) WritePacketRLE(payload []byte) error {
	return c.write(func(e *Endpoint) { e.SendRLE(payload) })
}

// WriteNotification writes the notification "%payload#xx".
func (c *Conn) WriteNotification(payload []byte) error {
	return c.write(func(e *Endpoint) { e.SendNotification(payload) })
}

// WriteInterrupt writes the interrupt byte 0x03 (the client side of
// Ctrl-C).
func (c *Conn) WriteInterrupt() error {
	return c.write(func(e *Endpoint) { e.SendInterrupt() })
}

// WriteRaw writes b as it is, outside any framing: for tests that send
// malformed input.
func (c *Conn) WriteRaw(b []byte) error {
	return c.write(func(e *Endpoint) { e.SendRaw(b) })
}

func (c *Conn) write(send func(*Endpoint)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	send(c.e)
	return c.flush()
}

// flush writes the Endpoint's output; c.mu is held.
func (c *Conn) flush() error {
	if c.err != nil {
		return c.err
	}
	out := c.e.Output()
	if len(out) == 0 {
		return nil
	}
	n, err := c.rw.Write(out)
	c.e.Wrote(n)
	if err != nil {
		c.err = err
	}
	return err
}
