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
// along; gdbserver spends 4.5 (README, "Performance"). A reply that does
// not fit in the socket at once, and every reply while acknowledgments are
// on, go through the connection's writer goroutine instead, which keeps the
// last packet for a resend on '-'. What waits for the writer is counted:
// while too much does, the core loop serves no more of that client's
// packets and soon reads no more of its input (backpressure, limits.go),
// so that a client that sends faster than it reads costs bounded memory
// and is never dropped for it.

// outMsg is one item of a writer's queue.
type outMsg struct {
	frame  []byte // a framed packet, or raw bytes ('+', '-')
	packet bool   // frame is a packet: keep it for a resend
	resend bool   // the client answered '-': send the last packet again
	noAck  bool   // acknowledgments end (QStartNoAckMode was read)
	buf    *[]byte
	size   int // the bytes it will write, for backpressure
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// connIO is the I/O side of one client. The fields up to debug are owned
// by the core loop; the writer goroutine owns its own locals; the counters
// after out are shared, atomically.
type connIO struct {
	conn       comm.Conn
	rfd, wfd   int
	in         []byte      // read, not yet framed; never longer than maxInput
	rd         *rsp.Reader // frames one whole frame at a time
	src        bytes.Reader
	parser     rsp.Parser
	noAck      bool // acknowledgments have ended
	discarding bool // inside a packet too long to keep, until its '#xx'
	// held says whole frames wait in `in`, not served because the client
	// was paused (backpressure); eof that the client has closed its side
	// and is disconnected once they are served.
	held, eof bool
	// lastLen is the length of the last packet queued while acks are on:
	// what a resend will write.
	lastLen int
	debug   func(format string, args ...any)

	out  chan outMsg   // to the writer; closed by the core loop
	done chan struct{} // closed when the writer has finished
	wake func()        // rouses the core loop (immutable)
	// queued and queuedBytes count what was given to the writer and is
	// not yet written: the core writes directly only when queued is 0,
	// so replies stay in order, and pauses the client while they are
	// high (see pauseReplies). The writer decrements them after each
	// write.
	queued      atomic.Int32
	queuedBytes atomic.Int64
	// stalled says the core loop paused the client for its backlog: the
	// writer rings wake once the backlog is down to half.
	stalled atomic.Bool
}

func newConnIO(conn comm.Conn, wake func()) *connIO {
	io_ := &connIO{conn: conn, out: make(chan outMsg, writerQueue), done: make(chan struct{}), wake: wake}
	io_.rfd, io_.wfd = conn.Fds()
	io_.rd = rsp.NewReader(&io_.src, rsp.ReaderOptions{MaxPayload: PacketSize})
	return io_
}

// backlogged says the writer holds enough of the client's output that the
// core loop must serve no more of its packets for now.
func (io_ *connIO) backlogged() bool {
	return io_.queued.Load() >= pauseReplies || io_.queuedBytes.Load() >= pauseBytes
}

// drained says a paused client may be served again.
func (io_ *connIO) drained() bool {
	return io_.queued.Load() <= pauseReplies/2 && io_.queuedBytes.Load() <= pauseBytes/2
}

// frameEvent is what readFrames found: a packet (or a parse error), an
// interrupt, or the end of the connection.
type frameEvent struct {
	req       rsp.Request
	err       error
	interrupt bool
}

// errClosed is the end of a client's stream; errHangup a connection that
// hung up while the server was not reading it.
var (
	errClosed = errors.New("connection closed by the client")
	errHangup = errors.New("connection hung up")
)

// fill reads what the client sent, without blocking and without keeping
// more than maxInput. It returns errClosed at the end of the stream.
func (io_ *connIO) fill() error {
	for {
		room := maxInput - len(io_.in)
		if room <= 0 {
			return nil
		}
		// Read straight into the buffer's free space: no copy of a large
		// packet through a chunk on the stack.
		if free := cap(io_.in) - len(io_.in); free < min(readChunk, room) {
			grown := make([]byte, len(io_.in), min(max(2*cap(io_.in), len(io_.in)+readChunk), maxInput))
			copy(grown, io_.in)
			io_.in = grown
		}
		free := io_.in[len(io_.in):min(cap(io_.in), maxInput)]
		n, err := unix.Read(io_.rfd, free)
		if n > 0 {
			io_.in = io_.in[:len(io_.in)+n]
			if n < len(free) {
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
// handle returns false, and leaves the frames in the input, held, while
// the client is paused (see client.paused).
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
			// What comes before the packet begun (all of it when none
			// has) is no frame: ReadFrame would skip it. Dropped now,
			// it costs nothing however much of it comes.
			if skip := len(io_.in) - pending; skip > 0 {
				io_.in = io_.in[:copy(io_.in, io_.in[skip:])]
			}
			if pending >= maxInput {
				// Longer than any packet of PacketSize: refuse it
				// without keeping it; the reply says why.
				if c.paused() {
					io_.hold(c)
					return
				}
				io_.held = false
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
		if c.paused() {
			io_.hold(c)
			return
		}
		io_.held = false
		// One byte more than the frame: a '$' that cut its checksum
		// short is seen, and left for the next frame (rsp.FrameSpan).
		io_.src.Reset(io_.in[:min(n+1, len(io_.in))])
		io_.rd.Reset(&io_.src)
		f, err := io_.rd.ReadFrame()
		ev, ok := io_.frame(c, f, err)
		io_.in = io_.in[:copy(io_.in, io_.in[n:])]
		if ok && !handle(ev) {
			return
		}
	}
}

// hold leaves the frames in the input for later: the client is paused.
func (io_ *connIO) hold(c *client) {
	if !io_.held {
		c.s.debugf("client #%d: paused: %d replies (%d bytes) not yet written, %d packets waiting to be served", c.id, io_.queued.Load(), io_.queuedBytes.Load(), len(c.queued))
	}
	io_.held = true
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
		c.queue(outMsg{resend: true, size: io_.lastLen})
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
// resend until acknowledgments end. It counts each message off after
// writing it, and rings the core loop when a client paused for its
// backlog may be served again, and when it ends.
func (io_ *connIO) writer() {
	defer close(io_.done)
	// Rung before done is closed: the core loop waits for done before it
	// closes the wake-up descriptor.
	defer io_.wake()
	var last []byte
	noAck := false
	failed := false
	for m := range io_.out {
		io_.write(m, &last, &noAck, &failed)
		if m.buf != nil {
			bufPool.Put(m.buf)
		}
		io_.queued.Add(-1)
		io_.queuedBytes.Add(-int64(m.size))
		if io_.stalled.Load() && io_.drained() && io_.stalled.CompareAndSwap(true, false) {
			io_.wake()
		}
	}
}

// write writes one message of the writer's queue.
func (io_ *connIO) write(m outMsg, last *[]byte, noAck, failed *bool) {
	if *failed {
		return
	}
	var b []byte
	switch {
	case m.noAck:
		*noAck = true
		*last = nil
		return
	case m.resend:
		b = *last
	default:
		b = m.frame
	}
	if len(b) == 0 {
		return
	}
	if _, err := io_.conn.Write(b); err != nil {
		// The core loop sees the connection fail too, at its next read
		// (or as a hang-up), and closes it: only the core closes, so
		// that the descriptor it polls is never reused under it.
		*failed = true
		if s, ok := io_.conn.(interface{ Shutdown() }); ok {
			s.Shutdown()
		} else {
			io_.conn.Close()
		}
	}
	if m.packet && !*noAck {
		*last = append((*last)[:0], b...)
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
