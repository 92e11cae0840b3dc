package server

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
)

// A connection has two goroutines: the reader frames and parses what the
// client sends and hands typed requests to the core loop; the writer is the
// only code that writes to the connection. They never touch the client's
// state, which the core loop owns.

// outMsg is one item of a writer's queue.
type outMsg struct {
	frame  []byte // a framed packet, or raw bytes ('+', '-')
	packet bool   // frame is a packet: keep it for a resend
	resend bool   // the client answered '-': send the last packet again
	noAck  bool   // acknowledgments end (QStartNoAckMode was read)
	buf    *[]byte
}

// writerQueue is how many replies may wait for a slow client. gdb waits
// for each reply, so a full queue means a client that does not read: it is
// dropped rather than allowed to block the core loop.
const writerQueue = 256

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// connIO is the goroutine side of one client: everything here is either
// immutable or owned by the reader or the writer goroutine.
type connIO struct {
	conn    comm.Conn
	out     chan outMsg   // to the writer; closed by the core loop
	done    chan struct{} // closed when the writer has finished
	maxRead int
	debug   func(format string, args ...any) // nil unless --remote-debug
}

// reader reads frames until the connection ends, and sends the core loop
// one message per packet, interrupt or failure. It acknowledges packets
// itself (through the writer) until no-ack mode starts, so that the ack
// always precedes the reply.
func (io_ *connIO) reader(c *client, to chan<- message) {
	rd := rsp.NewReader(io_.conn, rsp.ReaderOptions{MaxPayload: io_.maxRead})
	var p rsp.Parser
	noAck := false
	send := func(m outMsg) bool {
		// The core loop closes out only after it has received this
		// goroutine's last message (msgGone), so this never sends on a
		// closed channel. A full queue drops the ack: the client is not
		// reading anyway.
		select {
		case io_.out <- m:
			return true
		default:
			return false
		}
	}
	for {
		f, err := rd.ReadFrame()
		var ce *rsp.ChecksumError
		var oe *rsp.OversizeError
		switch {
		case errors.As(err, &ce):
			if io_.debug != nil {
				io_.debug("client #%d: %v", c.id, err)
			}
			if !noAck {
				send(outMsg{frame: []byte{'-'}})
			}
			continue
		case errors.As(err, &oe):
			if !noAck {
				send(outMsg{frame: []byte{'+'}})
			}
			to <- message{kind: msgPacket, client: c, err: err}
			continue
		case err != nil:
			if errors.Is(err, io.EOF) {
				err = nil
			}
			to <- message{kind: msgGone, client: c, err: err}
			return
		}
		switch f.Kind {
		case rsp.FrameInterrupt:
			to <- message{kind: msgInterrupt, client: c}
		case rsp.FrameNak:
			send(outMsg{resend: true})
		case rsp.FramePacket:
			if io_.debug != nil {
				io_.debug("client #%d: getpkt (\"%s\");", c.id, printable(f.Payload))
			}
			if !noAck {
				send(outMsg{frame: []byte{'+'}})
			}
			req, err := p.Parse(f.Payload)
			if _, ok := req.(*rsp.StartNoAckMode); ok {
				// gdb acknowledges our OK; after that, neither side does.
				noAck = true
				send(outMsg{noAck: true})
			}
			to <- message{kind: msgPacket, client: c, req: req, err: err}
		}
	}
}

// writer writes what the core loop queues, and keeps the last packet for a
// resend until acknowledgments end.
func (io_ *connIO) writer() {
	defer close(io_.done)
	var last []byte
	noAck := false
	failed := false
	for m := range io_.out {
		if failed {
			if m.buf != nil {
				bufPool.Put(m.buf)
			}
			continue
		}
		var b []byte
		switch {
		case m.noAck:
			noAck = true
			last = nil
			continue
		case m.resend:
			b = last
		default:
			b = m.frame
		}
		if len(b) == 0 {
			continue
		}
		if _, err := io_.conn.Write(b); err != nil {
			// The reader sees the failure too (the connection is
			// closed below) and tells the core loop.
			failed = true
			io_.conn.Close()
		}
		if m.packet && !noAck {
			last = append(last[:0], b...)
		}
		if m.buf != nil {
			bufPool.Put(m.buf)
		}
	}
}

// printable renders a payload for --remote-debug the way gdbserver does:
// printable bytes as they are, others as \xNN.
func printable(b []byte) string {
	const max = 512
	out := make([]byte, 0, len(b))
	for i, c := range b {
		if i == max {
			out = append(out, fmt.Sprintf("...(%d bytes)", len(b))...)
			break
		}
		if c >= 0x20 && c < 0x7f && c != '\\' {
			out = append(out, c)
		} else {
			out = append(out, fmt.Sprintf("\\x%02x", c)...)
		}
	}
	return string(out)
}
