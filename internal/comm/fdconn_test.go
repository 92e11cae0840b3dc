package comm

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// accepted listens on a free TCP port and returns the server side of one
// connection (an fdConn) and the client side.
func accepted(t *testing.T) (Conn, net.Conn) {
	t.Helper()
	l, err := Listen(Spec{Kind: TCP, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strings.TrimPrefix(l.Ready(), "Listening on port ")
	client, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, client
}

// TestAcceptedSocket: an accepted connection is a descriptor of the
// server's own (non-blocking, close-on-exec) that carries bytes both ways.
func TestAcceptedSocket(t *testing.T) {
	c, client := accepted(t)
	rfd, wfd := c.Fds()
	if rfd < 0 || rfd != wfd {
		t.Fatalf("Fds() = %d, %d", rfd, wfd)
	}
	fl, err := unix.FcntlInt(uintptr(rfd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("descriptor flags %#x, %v: want O_NONBLOCK", fl, err)
	}
	fdfl, err := unix.FcntlInt(uintptr(rfd), unix.F_GETFD, 0)
	if err != nil || fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("descriptor flags %#x, %v: want FD_CLOEXEC", fdfl, err)
	}
	if _, err := client.Write([]byte("$g#67")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf) // waits with poll until the bytes are there
	if err != nil || string(buf[:n]) != "$g#67" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	big := make([]byte, 4<<20) // more than the socket holds: Write waits
	got := make(chan int)
	go func() {
		n, _ := io.ReadFull(client, make([]byte, len(big)))
		got <- n
	}()
	if n, err := c.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write of 4 MiB = %d, %v", n, err)
	}
	if n := <-got; n != len(big) {
		t.Fatalf("the peer read %d bytes of 4 MiB", n)
	}
	client.Close()
	if n, err := c.Read(buf); err != io.EOF {
		t.Errorf("Read after the peer closed = %d, %v; want EOF", n, err)
	}
}

// TestAcceptedSocketDeadline: a Read past its deadline fails with
// os.ErrDeadlineExceeded rather than waiting for ever (refusing a client
// over the limit relies on it).
func TestAcceptedSocketDeadline(t *testing.T) {
	c, _ := accepted(t)
	d, ok := c.(interface{ SetDeadline(time.Time) error })
	if !ok {
		t.Fatal("an accepted connection has no SetDeadline")
	}
	d.SetDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline: %v", err)
	}
}

// TestAcceptedSocketCloseWakesRead: Close ends a Read blocked in another
// goroutine, and only then releases the descriptor.
func TestAcceptedSocketCloseWakesRead(t *testing.T) {
	c, _ := accepted(t)
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	<-started
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("Read after Close returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end a blocked Read")
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if rfd, _ := c.Fds(); rfd != -1 {
		t.Errorf("Fds after Close = %d, want -1", rfd)
	}
}
