package comm

import (
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fdConn is an accepted socket that Go's netpoller never sees: the server
// polls and reads it itself (Fds), and were it registered with the
// runtime too, every packet gdb sends would wake a runtime thread that
// finds nothing to do (edge-triggered epoll reports each arrival). On a
// 1,000-thread `thread apply all bt` those wakeups cost more than the
// packets.
//
// Read and Write block with poll(2) (the writer goroutine uses Write when
// a reply does not fit in the socket at once). Close shuts the socket
// down, which wakes them, and closes the descriptor once no Read or Write
// is using it, so that its number cannot be reused under one.
type fdConn struct {
	peer string
	cred *Cred // a unix socket's peer (SO_PEERCRED), nil for TCP

	mu       sync.RWMutex // held shared by Read and Write, exclusively to close
	fd       int          // -1 once closed
	deadline time.Time

	shut sync.Once
}

func (c *fdConn) Peer() string    { return c.peer }
func (c *fdConn) Fds() (int, int) { return c.fd, c.fd }

// SetDeadline bounds later Reads and Writes (an error after it passes).
func (c *fdConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

func (c *fdConn) Read(p []byte) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for {
		if c.fd < 0 {
			return 0, os.ErrClosed
		}
		n, err := unix.Read(c.fd, p)
		switch {
		case n > 0:
			return n, nil
		case n == 0 && err == nil:
			return 0, io.EOF
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return 0, os.NewSyscallError("read", err)
		}
		if err := c.wait(unix.POLLIN); err != nil {
			return 0, err
		}
	}
}

func (c *fdConn) Write(p []byte) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	done := 0
	for done < len(p) {
		if c.fd < 0 {
			return done, os.ErrClosed
		}
		n, err := unix.Write(c.fd, p[done:])
		if n > 0 {
			done += n
			continue
		}
		switch {
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return done, os.NewSyscallError("write", err)
		}
		if err := c.wait(unix.POLLOUT); err != nil {
			return done, err
		}
	}
	return done, nil
}

// wait polls for events until the deadline; mu is held shared.
func (c *fdConn) wait(events int16) error {
	for {
		timeout := -1
		if !c.deadline.IsZero() {
			left := time.Until(c.deadline)
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			timeout = int(left/time.Millisecond) + 1
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: events}}
		n, err := unix.Poll(fds, timeout)
		switch {
		case err == unix.EINTR, n == 0:
			continue
		case err != nil:
			return os.NewSyscallError("poll", err)
		}
		return nil // ready, or hung up: the next read or write says which
	}
}

// Shutdown ends the connection both ways without releasing the
// descriptor: blocked Reads and Writes return, and the poller sees the
// end. Close must still follow.
func (c *fdConn) Shutdown() {
	c.shut.Do(func() { unix.Shutdown(c.fd, unix.SHUT_RDWR) })
}

// CloseWrite ends the stream to the peer (shutdown(2) SHUT_WR): it reads
// the end, while what it still sends can be read.
func (c *fdConn) CloseWrite() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.fd < 0 {
		return os.ErrClosed
	}
	return unix.Shutdown(c.fd, unix.SHUT_WR)
}

func (c *fdConn) Close() error {
	c.Shutdown()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	err := unix.Close(c.fd)
	c.fd = -1
	return err
}
