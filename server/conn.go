package server

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
)

// The core loop reads every connection itself: it waits with poll(2) on
// all of them (and on a wake-up eventfd for the other goroutines), reads
// what arrived, frames and parses it, serves each packet and writes the
// reply, all on one goroutine. Measured on the project's VM (a client
// sending one m packet after another, all on one CPU), a round trip then
// costs the server about 9 us of CPU, against 12 us when a reader
// goroutine, the Go netpoller and a writer goroutine pass each packet
// along; gdbserver spends 4.5 (README, "Performance"). A reply that does not fit in the socket
// at once, and every reply while acknowledgments are on, go through the
// connection's writer goroutine instead, which keeps the last packet for a
// resend on '-'.

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

// maxInput bounds what is buffered of a client's input: a whole packet of
// the advertised size, escaped (two bytes per byte at most), and its
// frame.
const maxInput = 2*PacketSize + 16

// readChunk is the least free space a read is given.
const readChunk = 16384

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// connIO is the I/O side of one client. The fields up to queued are owned
// by the core loop; the writer goroutine owns its own locals.
type connIO struct {
	conn       comm.Conn
	rfd, wfd   int
	in         []byte      // read, not yet framed
	rd         *rsp.Reader // frames one whole frame at a time
	src        bytes.Reader
	parser     rsp.Parser
	noAck      bool // acknowledgments have ended
	discarding bool // inside a packet too long to keep, until its '#xx'
	debug      func(format string, args ...any)

	out  chan outMsg   // to the writer; closed by the core loop
	done chan struct{} // closed when the writer has finished
	// queued counts messages given to the writer and not yet written:
	// the core writes directly only when it is 0, so replies stay in
	// order. The writer decrements it.
	queued atomic.Int32
}

func newConnIO(conn comm.Conn) *connIO {
	io_ := &connIO{conn: conn, out: make(chan outMsg, writerQueue), done: make(chan struct{})}
	io_.rfd, io_.wfd = conn.Fds()
	io_.rd = rsp.NewReader(&io_.src, rsp.ReaderOptions{MaxPayload: PacketSize})
	return io_
}

// frameEvent is what readFrames found: a packet (or a parse error), an
// interrupt, or the end of the connection.
type frameEvent struct {
	req       rsp.Request
	err       error
	interrupt bool
}

// errRead wraps a failed read of a connection.
var errClosed = errors.New("connection closed by the client")

// fill reads what the client sent, without blocking. It returns errClosed
// at the end of the stream.
func (io_ *connIO) fill() error {
	for {
		// Read straight into the buffer's free space: no copy of a large
		// packet through a chunk on the stack.
		if cap(io_.in)-len(io_.in) < readChunk {
			io_.in = append(io_.in[:cap(io_.in)], make([]byte, readChunk)...)[:len(io_.in)]
		}
		free := io_.in[len(io_.in):cap(io_.in)]
		n, err := unix.Read(io_.rfd, free)
		if n > 0 {
			io_.in = io_.in[:len(io_.in)+n]
			if n < len(free) || len(io_.in) > maxInput {
				return nil
			}
			continue
		}
		switch {
		case n == 0 && err == nil:
			return errClosed
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
			return nil
		}
		return fmt.Errorf("read: %w", err)
	}
}

// frames takes the whole frames out of the input, acknowledging packets
// while acks are on, and calls handle with each. It stops early when
// handle returns false.
func (io_ *connIO) frames(c *client, handle func(frameEvent) bool) {
	for len(io_.in) > 0 {
		if io_.discarding {
			// Drop the rest of an oversized packet, up to its checksum.
			i := bytes.IndexByte(io_.in, '#')
			if i < 0 || i+2 >= len(io_.in) {
				if i < 0 {
					io_.in = io_.in[:0]
				}
				return
			}
			io_.in = io_.in[:copy(io_.in, io_.in[i+3:])]
			io_.discarding = false
			continue
		}
		n, pending := rsp.FrameSpan(io_.in)
		if n == 0 {
			if pending > maxInput-16 {
				// Refuse it without keeping it: the reply says why.
				io_.discarding = true
				io_.in = io_.in[:0]
				if !io_.noAck {
					c.sendRaw('+')
				}
				if !handle(frameEvent{err: &rsp.OversizeError{Limit: PacketSize, Length: int64(pending)}}) {
					return
				}
			}
			return
		}
		io_.src.Reset(io_.in[:n])
		io_.rd.Reset(&io_.src)
		f, err := io_.rd.ReadFrame()
		ev, ok := io_.frame(c, f, err)
		io_.in = io_.in[:copy(io_.in, io_.in[n:])]
		if ok && !handle(ev) {
			return
		}
	}
}

// frame turns one frame into what the core serves.
func (io_ *connIO) frame(c *client, f rsp.Frame, err error) (frameEvent, bool) {
	var ce *rsp.ChecksumError
	var oe *rsp.OversizeError
	var ee *rsp.EscapeError
	switch {
	case errors.As(err, &oe), errors.As(err, &ee):
		if !io_.noAck {
			c.sendRaw('+')
		}
		return frameEvent{err: err}, true
	case errors.As(err, &ce):
		if io_.debug != nil {
			io_.debug("client #%d: %v", c.id, err)
		}
		if !io_.noAck {
			c.sendRaw('-')
		}
		return frameEvent{}, false
	case err != nil:
		return frameEvent{}, false
	}
	switch f.Kind {
	case rsp.FrameInterrupt:
		return frameEvent{interrupt: true}, true
	case rsp.FrameNak:
		c.queue(outMsg{resend: true})
	case rsp.FramePacket:
		if io_.debug != nil {
			io_.debug("client #%d: getpkt (\"%s\");", c.id, printable(f.Payload))
		}
		if !io_.noAck {
			c.sendRaw('+')
		}
		req, err := io_.parser.Parse(f.Payload)
		if _, ok := req.(*rsp.StartNoAckMode); ok {
			// gdb acknowledges our OK; after it, neither side does.
			io_.noAck = true
			c.queue(outMsg{noAck: true})
		}
		return frameEvent{req: req, err: err}, true
	}
	return frameEvent{}, false
}

// writer writes what the core loop queues, and keeps the last packet for a
// resend until acknowledgments end.
func (io_ *connIO) writer() {
	defer close(io_.done)
	var last []byte
	noAck := false
	failed := false
	for m := range io_.out {
		io_.queued.Add(-1)
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
		if len(b) > 0 {
			if _, err := io_.conn.Write(b); err != nil {
				// The core loop sees the connection fail too, at its
				// next read, and closes it: only the core closes, so
				// that the descriptor it polls is never reused under it.
				failed = true
				if s, ok := io_.conn.(interface{ Shutdown() }); ok {
					s.Shutdown()
				} else {
					io_.conn.Close()
				}
			}
			if m.packet && !noAck {
				last = append(last[:0], b...)
			}
		}
		if m.buf != nil {
			bufPool.Put(m.buf)
		}
	}
}

// writeNow writes b without waiting: a socket that is full takes what it
// can. It returns how many bytes went out.
func (io_ *connIO) writeNow(b []byte) int {
	n := 0
	for n < len(b) {
		m, err := unix.Write(io_.wfd, b[n:])
		if m <= 0 || err != nil {
			break
		}
		n += m
	}
	return n
}

// wake is an eventfd the core loop polls beside the connections, so that
// other goroutines (acceptors, the target's events, ctx) can rouse it.
type wake struct{ fd int }

func newWake() (*wake, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &wake{fd: fd}, nil
}

// ring rouses the core loop; any goroutine may call it.
func (w *wake) ring() {
	one := [8]byte{1}
	unix.Write(w.fd, one[:])
}

// clear consumes the rings (core loop only).
func (w *wake) clear() {
	var b [8]byte
	unix.Read(w.fd, b[:])
}

func (w *wake) close() { unix.Close(w.fd) }

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
