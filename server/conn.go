package server

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
)

// The core loop reads and writes every connection itself, with
// non-blocking sockets and poll(2), on its own thread: a packet is read,
// framed, served and answered with no hand-off to another thread. The
// framing and acknowledgments are rsp.Endpoint's (the same code the test
// client uses). A reply the socket cannot take at once waits in the
// Endpoint's output and is written when poll says the socket has room
// (POLLOUT); while too much waits, the core loop serves no more of that
// client's packets and soon reads no more of its input (backpressure,
// limits.go), so that a client that sends faster than it reads costs
// bounded memory and is never dropped for it.

// connIO is the I/O side of one client, owned by the core loop.
type connIO struct {
	conn     comm.Conn
	rfd, wfd int
	ep       *rsp.Endpoint
	parser   rsp.Parser
	// held says whole frames wait in the input, not served because the
	// client was paused (backpressure); eof that the client has closed
	// its side and is disconnected once they are served.
	held, eof bool
	// failed says a write failed: the socket is shut down, and the core
	// loop disconnects the client at its next read.
	failed bool
	debug  func(format string, args ...any)
}

func newConnIO(conn comm.Conn) *connIO {
	io_ := &connIO{conn: conn, ep: rsp.NewEndpoint(rsp.EndpointOptions{MaxPayload: PacketSize})}
	io_.rfd, io_.wfd = conn.Fds()
	return io_
}

// backlogged says enough of the client's output waits for its socket that
// the core loop must serve no more of its packets for now.
func (io_ *connIO) backlogged() bool { return len(io_.ep.Output()) >= pauseBytes }

// full says the input holds a whole frame's worth: nothing more is read
// until frames are taken out.
func (io_ *connIO) full() bool { return io_.ep.Buffered() >= maxInput }

// frameEvent is what frames found: a packet (or a parse error), or an
// interrupt.
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
// more than one frame's worth. It returns errClosed at the end of the
// stream.
func (io_ *connIO) fill() error {
	for {
		space := io_.ep.Space()
		if len(space) == 0 {
			return nil
		}
		n, err := rawRead(io_.rfd, space)
		if n > 0 {
			io_.ep.Filled(n)
			if n < len(space) {
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

// frames takes the whole frames out of the input and calls handle with
// each (acknowledgments are the Endpoint's). It stops early when handle
// returns false, and leaves the frames in the input, held, while the
// client is paused (see client.paused).
func (io_ *connIO) frames(c *client, handle func(frameEvent) bool) {
	for {
		if io_.ep.HasFrame() && c.paused() {
			if !io_.held {
				c.s.log.debugf("client #%d: paused: %d bytes of replies not yet written, %d packets waiting to be served", c.id, len(io_.ep.Output()), len(c.queued))
			}
			io_.held = true
			return
		}
		// Next also drops the junk between frames as it comes.
		f, err, ok := io_.ep.Next()
		if !ok {
			io_.held = false
			return
		}
		ev, ok := io_.frame(c, f, err)
		if ok && !handle(ev) {
			return
		}
	}
}

// frame turns one frame into what the core serves.
func (io_ *connIO) frame(c *client, f rsp.Frame, err error) (frameEvent, bool) {
	var ce *rsp.ChecksumError
	switch {
	case errors.As(err, &ce):
		// Answered '-' (in ack mode): the client sends it again.
		if io_.debug != nil {
			io_.debug("client #%d: %v", c.id, err)
		}
		return frameEvent{}, false
	case err != nil:
		return frameEvent{err: err}, true // oversize, dangling escape
	}
	switch f.Kind {
	case rsp.FrameInterrupt:
		return frameEvent{interrupt: true}, true
	case rsp.FramePacket:
		if io_.debug != nil {
			io_.debug("client #%d: getpkt (\"%s\");", c.id, printable(f.Payload))
		}
		req, err := io_.parser.Parse(f.Payload)
		if _, ok := req.(*rsp.StartNoAckMode); ok {
			// gdb acknowledges our OK; after it, neither side does.
			io_.ep.SetNoAck()
		}
		return frameEvent{req: req, err: err}, true
	}
	return frameEvent{}, false
}

// flush writes what waits in the output, without blocking: a socket that
// is full takes what it can, and poll says when it has room for the rest.
// A write that fails shuts the socket down: the core loop sees the
// connection end at its next read, and closes it (only the core closes,
// so that the descriptor it polls is never reused under it).
func (io_ *connIO) flush() {
	out := io_.ep.Output()
	if io_.wfd < 0 || io_.failed {
		return
	}
	for len(out) > 0 {
		n, err := rawWrite(io_.wfd, out)
		if n > 0 {
			io_.ep.Wrote(n)
			out = io_.ep.Output()
			continue
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if !errors.Is(err, unix.EAGAIN) {
			io_.failed = true
			unix.Shutdown(io_.rfd, unix.SHUT_RDWR)
		}
		return
	}
}

// waiting says output waits for the socket to have room.
func (io_ *connIO) waiting() bool { return len(io_.ep.Output()) > 0 && io_.wfd >= 0 && !io_.failed }

// wake is an eventfd the core loop polls beside the connections, so that
// the other goroutines (acceptors, the watcher of Run's context, the
// garbage collection at a disconnect) can rouse it.
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

// rawRead and rawWrite are read(2) and write(2) of a non-blocking socket,
// raw: they do not block, and the core thread keeps its P (see pollFds).
func rawRead(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func rawWrite(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
