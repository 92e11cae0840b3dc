// Package comm opens the transports a COMM argument names, as gdbserver
// understands them: [HOST]:PORT (TCP), unix:PATH (a unix stream socket),
// '-' or 'stdio' (the server's stdin/stdout), and a serial tty (/dev/...).
//
// Every transport is a Listener that yields Conns, so the server serves them
// all alike. Stdio and tty carry one connection for the life of the server.
//
// What a transport tells of who connects is the server's to judge: a unix
// socket's file has the mode Spec.Mode (0600 unless asked otherwise), and
// PeerCred gives the user of the process on the other end (SO_PEERCRED);
// Public says a TCP listener is not on loopback, so that anyone who can
// reach the address can connect.
package comm

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Kind names a transport.
type Kind int

// Transports.
const (
	TCP Kind = iota
	Unix
	Stdio
	Serial
)

func (k Kind) String() string {
	switch k {
	case TCP:
		return "tcp"
	case Unix:
		return "unix"
	case Stdio:
		return "stdio"
	case Serial:
		return "serial"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Spec is a parsed COMM argument.
type Spec struct {
	Kind Kind
	Addr string // TCP: host:port; Unix: socket path; Serial: device path
	// Mode is the permission of a unix socket's file: who may connect
	// (connect(2) needs write permission on it). 0 means DefaultSocketMode.
	Mode os.FileMode
}

// DefaultSocketMode lets only the server's own user connect to a unix
// socket (the peer's uid is checked as well: PeerCred).
const DefaultSocketMode os.FileMode = 0o600

func (s Spec) String() string {
	switch s.Kind {
	case Stdio:
		return "stdio"
	case Unix:
		return "unix:" + s.Addr
	}
	return s.Addr
}

// Parse reads a COMM argument. An empty host means 127.0.0.1: listening on
// every interface must be asked for (0.0.0.0:PORT or [::]:PORT).
func Parse(s string) (Spec, error) {
	switch {
	case s == "-" || s == "stdio":
		return Spec{Kind: Stdio}, nil
	case strings.HasPrefix(s, "unix:"):
		p := strings.TrimPrefix(s, "unix:")
		if p == "" {
			return Spec{}, fmt.Errorf("COMM %q: unix: needs a socket path", s)
		}
		return Spec{Kind: Unix, Addr: p}, nil
	case strings.HasPrefix(s, "/dev/"):
		return Spec{Kind: Serial, Addr: s}, nil
	}
	family, hp := "", s
	for _, f := range []string{"tcp", "tcp4", "tcp6"} {
		if rest, ok := strings.CutPrefix(s, f+":"); ok {
			family, hp = f, rest
			break
		}
	}
	if family == "" {
		if p, _, ok := strings.Cut(s, ":"); ok && looksLikePrefix.MatchString(p) {
			if strings.HasPrefix(p, "udp") {
				return Spec{}, fmt.Errorf("COMM %q: UDP is not served (the remote protocol needs a stream): use tcp:, tcp4:, tcp6: or unix:", s)
			}
			return Spec{}, fmt.Errorf("COMM %q: unknown prefix %q (tcp:, tcp4:, tcp6:, unix:)", s, p+":")
		}
	}
	host, port, ok := splitHostPort(hp)
	if !ok && family == "tcp6" {
		// gdb's own form: tcp6:::1:PORT, the port after the last colon.
		i := strings.LastIndexByte(hp, ':')
		host, port, ok = hp[:i], hp[i+1:], true
	}
	if !ok {
		return Spec{}, fmt.Errorf("COMM %q is not [HOST]:PORT, unix:PATH, a /dev/ tty, or '-'", s)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return Spec{}, fmt.Errorf("COMM %q: port %q is not a number from 0 to 65535", s, port)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
		if family == "tcp6" {
			host = "::1"
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if family == "tcp4" && !ip.Is4() {
			return Spec{}, fmt.Errorf("COMM %q: tcp4: wants an IPv4 address", s)
		}
		if family == "tcp6" && ip.Is4() {
			return Spec{}, fmt.Errorf("COMM %q: tcp6: wants an IPv6 address", s)
		}
	}
	return Spec{Kind: TCP, Addr: joinHostPort(host, strconv.Itoa(int(n)))}, nil
}

// looksLikePrefix matches what is meant as a COMM prefix (tcp8:, udp:)
// rather than a host name.
var looksLikePrefix = regexp.MustCompile(`^(tcp|udp)[0-9]*$`)

// Conn is one client's byte stream.
type Conn interface {
	io.ReadWriteCloser
	// Peer names the other end: "127.0.0.1:PORT", a socket path, "stdio"
	// or the tty's path.
	Peer() string
	// Fds are the descriptors to read and to write, for a server that
	// waits with poll(2) and reads and writes them itself. They are
	// valid until Close.
	Fds() (read, write int)
}

// fdOf returns the descriptor of a socket or file without changing its
// mode (os.File.Fd would make it blocking).
func fdOf(sc syscall.Conn) int {
	fd := -1
	if raw, err := sc.SyscallConn(); err == nil {
		raw.Control(func(f uintptr) { fd = int(f) })
	}
	return fd
}

// Listener yields connections.
type Listener interface {
	// Accept waits for the next connection. After Close it returns
	// ErrClosed.
	Accept() (Conn, error)
	Close() error
	// Ready is the line the server prints once it listens, as gdbserver
	// does ("Listening on port N"), for people and scripts waiting on it.
	Ready() string
	// Single says the transport carries one connection only (stdio, tty).
	Single() bool
}

// ErrClosed is returned by Accept after Close.
var ErrClosed = errors.New("listener closed")

// Listen opens the transport.
func Listen(s Spec) (Listener, error) {
	switch s.Kind {
	case TCP:
		l, err := listenTCP(s.Addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", s.Addr, err)
		}
		return l, nil
	case Unix:
		mode := s.Mode
		if mode == 0 {
			mode = DefaultSocketMode
		}
		l, err := listenUnix(s.Addr, mode)
		if err != nil {
			return nil, fmt.Errorf("listen on unix socket %s: %w", s.Addr, err)
		}
		return l, nil
	case Stdio:
		return newSingle(stdio{}, "Remote debugging using stdio"), nil
	case Serial:
		f, err := openTTY(s.Addr)
		if err != nil {
			return nil, err
		}
		return newSingle(&tty{File: f, fd: fdOf(f)}, "Remote debugging using "+s.Addr), nil
	}
	return nil, fmt.Errorf("unknown transport %v", s.Kind)
}

// single hands out its one connection once; later Accepts wait for Close.
type single struct {
	mu     sync.Mutex
	conn   Conn
	ready  string
	closed chan struct{}
	once   sync.Once
}

func newSingle(c Conn, ready string) *single {
	return &single{conn: c, ready: ready, closed: make(chan struct{})}
}

func (s *single) Accept() (Conn, error) {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-s.closed
	return nil, ErrClosed
}

func (s *single) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *single) Ready() string { return s.ready }
func (s *single) Single() bool  { return true }

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return nil }
func (stdio) Peer() string                { return "stdio" }
func (stdio) Fds() (int, int)             { return 0, 1 }

type tty struct {
	*os.File
	fd int
}

func (t *tty) Peer() string    { return t.Name() }
func (t *tty) Fds() (int, int) { return t.fd, t.fd }

// openTTY opens a serial device in raw mode: no echo, no line editing, no
// translation of bytes, 8 data bits; what gdb expects on the other end.
func openTTY(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open tty %s: %w", path, err)
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tty %s: %w", path, err)
	}
	// cfmakeraw(3). O_NONBLOCK lets the runtime poll the fd, so Close
	// interrupts a blocked Read.
	// cfmakeraw(3)
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tty %s: set raw mode: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
