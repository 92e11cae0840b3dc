package rsp

import (
	"errors"
	"fmt"
	"io"
)

// DefaultClientMaxPayload is the reply limit of a Client: replies are
// bounded by the server's PacketSize, or by what the client asked for, but
// a test client accepts generously.
const DefaultClientMaxPayload = 1 << 20

// Client is the client side of the protocol, for tests and tools: it
// encodes requests, decodes replies and handles acknowledgments. It is
// meant for one goroutine; a test that reads notifications while it sends
// uses the Conn it wraps.
type Client struct {
	conn *Conn
	buf  []byte
}

// NewClient returns a Client over rw, the stream to a server.
func NewClient(rw io.ReadWriter) *Client {
	return &Client{conn: NewConn(rw, ConnOptions{Reader: ReaderOptions{
		MaxPayload: DefaultClientMaxPayload,
		FromServer: true,
	}})}
}

// Conn returns the connection, for raw writes (malformed packets,
// interrupts) and reads.
func (c *Client) Conn() *Conn { return c.conn }

// Send writes the request as a packet.
func (c *Client) Send(req Request) error {
	c.buf = req.AppendPayload(c.buf[:0])
	return c.conn.WritePacket(c.buf)
}

// SendPayload writes payload, which need not be a valid request, as a
// packet.
func (c *Client) SendPayload(payload []byte) error {
	return c.conn.WritePacket(payload)
}

// Recv returns the next packet or notification from the server. Its
// payload stays valid until the next Recv or Call.
func (c *Client) Recv() (Frame, error) {
	for {
		f, err := c.conn.ReadFrame()
		if err != nil {
			return f, err
		}
		if f.Kind == FramePacket || f.Kind == FrameNotification {
			return f, nil
		}
	}
}

// Reply is what a server answered to one request.
type Reply struct {
	// Payload is the final reply (not an O packet); the Client's copy.
	Payload []byte
	// Output is the text of the console output (O) packets that came
	// before it, concatenated.
	Output []byte
}

// Call sends the request and returns the server's reply, collecting the
// console output that precedes it (a qRcmd's, or a resume's notices).
// Notifications that arrive meanwhile are skipped.
func (c *Client) Call(req Request) (Reply, error) {
	if err := c.Send(req); err != nil {
		return Reply{}, err
	}
	return c.Wait()
}

// Wait reads up to the next reply that is not console output, as Call
// does after sending.
func (c *Client) Wait() (Reply, error) {
	var r Reply
	for {
		f, err := c.Recv()
		if err != nil {
			return r, err
		}
		if f.Kind != FramePacket {
			continue
		}
		if text, ok := DecodeConsoleOutput(f.Payload); ok {
			r.Output = append(r.Output, text...)
			continue
		}
		r.Payload = append([]byte(nil), f.Payload...)
		return r, nil
	}
}

// ErrUnexpectedReply reports a reply of the wrong form.
var ErrUnexpectedReply = errors.New("rsp: unexpected reply")

// StartNoAck negotiates no-ack mode: QStartNoAckMode, then OK.
func (c *Client) StartNoAck() error {
	r, err := c.Call(&StartNoAckMode{})
	if err != nil {
		return err
	}
	if string(r.Payload) != "OK" {
		return fmt.Errorf("QStartNoAckMode: %w: %q", ErrUnexpectedReply, r.Payload)
	}
	c.conn.SetNoAck()
	return nil
}
