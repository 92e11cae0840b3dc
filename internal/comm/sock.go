package comm

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The listeners are sockets of the server's own, made with system calls
// rather than the net package: importing net links the cgo runtime and
// libc into the binary (with cgo on, Go's default where gcc exists), which
// cost 1 ms of every start and 1.3 MiB of memory; without net the binary
// is static. Accepted sockets are polled by the server itself anyway
// (fdConn).

// splitHostPort splits "host:port", "[v6]:port" and ":port".
func splitHostPort(s string) (host, port string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", false
	}
	host, port = s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", false
		}
		host = host[1 : len(host)-1]
	} else if strings.ContainsAny(host, ":[]") {
		return "", "", false
	}
	return host, port, true
}

// joinHostPort is the inverse of splitHostPort.
func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// hostsFile is where names are looked up (a variable for tests).
var hostsFile = "/etc/hosts"

// resolve turns a listening host into an address: an IP literal, or a name
// from /etc/hosts (gdbserver users write localhost, or the machine's own
// name); DNS is not asked.
func resolve(host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), nil
	}
	f, err := os.Open(hostsFile)
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			for _, name := range fields[1:] {
				if strings.EqualFold(name, host) {
					if a, err := netip.ParseAddr(fields[0]); err == nil {
						return a.Unmap(), nil
					}
				}
			}
		}
	}
	return netip.Addr{}, fmt.Errorf("host %q is not an address nor a name in %s", host, hostsFile)
}

// sockListener is a listening socket; Accept blocks in accept4(2).
type sockListener struct {
	mu    sync.RWMutex // held shared by Accept, exclusively to close
	fd    int          // -1 once closed
	path  string       // unix socket path, removed at Close
	ready string
	// public is the address of a TCP listener that is not on loopback
	// (see Public); "" for loopback and unix sockets.
	public string
	shut   sync.Once
	closed atomic.Bool
}

// listenTCP listens on addr ("host:port").
func listenTCP(addr string) (*sockListener, error) {
	host, port, ok := splitHostPort(addr)
	if !ok {
		return nil, fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	ip, err := resolve(host)
	if err != nil {
		return nil, err
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip.Is4() {
		sa = &unix.SockaddrInet4{Port: int(n), Addr: ip.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(n), Addr: ip.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// As net.Listen: a port in TIME_WAIT can be listened on again.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := bindListen(fd, sa); err != nil {
		unix.Close(fd)
		return nil, err
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("getsockname", err)
	}
	port2 := 0
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		port2 = a.Port
	case *unix.SockaddrInet6:
		port2 = a.Port
	}
	l := &sockListener{fd: fd, ready: fmt.Sprintf("Listening on port %d", port2)}
	if !ip.IsLoopback() {
		l.public = joinHostPort(ip.String(), strconv.Itoa(port2))
	}
	return l, nil
}

// listenUnix listens on a unix stream socket at path, whose file gets
// mode. The mode is set between bind(2) and listen(2): a connect before
// listen is refused, so no peer connects while the file still has the
// umask's permissions.
func listenUnix(path string, mode os.FileMode) (*sockListener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	if err := os.Chmod(path, mode.Perm()); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, err
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, os.NewSyscallError("listen", err)
	}
	return &sockListener{fd: fd, path: path, ready: "Listening on unix socket " + path}, nil
}

func bindListen(fd int, sa unix.Sockaddr) error {
	if err := unix.Bind(fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return os.NewSyscallError("listen", err)
	}
	return nil
}

// Accept waits for a connection and returns it as an fdConn: non-blocking
// and close-on-exec from accept4 on, with TCP_NODELAY on TCP (packets
// are small and answered one at a time: never wait to coalesce them).
func (l *sockListener) Accept() (Conn, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for {
		if l.fd < 0 {
			return nil, ErrClosed
		}
		nfd, sa, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == unix.EINTR || err == unix.ECONNABORTED:
			continue
		case err != nil && l.closed.Load():
			return nil, ErrClosed
		case err != nil:
			return nil, os.NewSyscallError("accept", err)
		}
		peer := l.path
		var cred *Cred
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			peer = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
		case *unix.SockaddrInet6:
			unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			peer = netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)).String()
		default:
			// A unix socket: who is on the other end, as the kernel
			// recorded it when the peer connected.
			if uc, err := unix.GetsockoptUcred(nfd, unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
				cred = &Cred{PID: int(uc.Pid), UID: int(uc.Uid), GID: int(uc.Gid)}
			}
		}
		return &fdConn{fd: nfd, peer: peer, cred: cred}, nil
	}
}

// Close stops the listener: shutdown(2) wakes an Accept blocked in
// accept4, then the descriptor is closed once no Accept uses it (so its
// number cannot be reused under one), and a unix socket's file removed.
func (l *sockListener) Close() error {
	l.shut.Do(func() {
		l.closed.Store(true)
		unix.Shutdown(l.fd, unix.SHUT_RDWR)
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fd < 0 {
		return nil
	}
	err := unix.Close(l.fd)
	l.fd = -1
	if l.path != "" {
		os.Remove(l.path)
	}
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

func (l *sockListener) Ready() string { return l.ready }

// Public returns the address a TCP listener listens on when it is not a
// loopback address (0.0.0.0, [::], a LAN address): anyone who can reach
// it can connect. It returns "", false for loopback, unix sockets, stdio
// and serial lines.
func Public(l Listener) (string, bool) {
	if sl, ok := l.(*sockListener); ok && sl.public != "" {
		return sl.public, true
	}
	return "", false
}

// Cred is the peer of a unix socket connection, as SO_PEERCRED gives it:
// the process that connected, and its user and group.
type Cred struct {
	PID, UID, GID int
}

// PeerCred returns the credentials of a unix socket's peer; false for
// every other transport.
func PeerCred(c Conn) (Cred, bool) {
	if fc, ok := c.(*fdConn); ok && fc.cred != nil {
		return *fc.cred, true
	}
	return Cred{}, false
}
func (l *sockListener) Single() bool { return false }
