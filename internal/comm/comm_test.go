package comm

import (
	"bufio"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
		err  string
	}{
		{in: ":2345", want: Spec{Kind: TCP, Addr: "127.0.0.1:2345"}},
		{in: "localhost:2345", want: Spec{Kind: TCP, Addr: "127.0.0.1:2345"}},
		{in: "0.0.0.0:1", want: Spec{Kind: TCP, Addr: "0.0.0.0:1"}},
		{in: "tcp:10.0.0.1:99", want: Spec{Kind: TCP, Addr: "10.0.0.1:99"}},
		{in: "[::1]:80", want: Spec{Kind: TCP, Addr: "[::1]:80"}},
		{in: "127.0.0.1:0", want: Spec{Kind: TCP, Addr: "127.0.0.1:0"}},
		{in: "-", want: Spec{Kind: Stdio}},
		{in: "stdio", want: Spec{Kind: Stdio}},
		{in: "unix:/tmp/x.sock", want: Spec{Kind: Unix, Addr: "/tmp/x.sock"}},
		{in: "/dev/ttyS0", want: Spec{Kind: Serial, Addr: "/dev/ttyS0"}},
		{in: "tcp4:127.0.0.1:7", want: Spec{Kind: TCP, Addr: "127.0.0.1:7"}},
		{in: "tcp4::7", want: Spec{Kind: TCP, Addr: "127.0.0.1:7"}},
		{in: "tcp6:[::1]:7", want: Spec{Kind: TCP, Addr: "[::1]:7"}},
		{in: "tcp6:::1:7", want: Spec{Kind: TCP, Addr: "[::1]:7"}},
		{in: "tcp6::7", want: Spec{Kind: TCP, Addr: "[::1]:7"}},
		{in: "tcp6:fe80::1:7", want: Spec{Kind: TCP, Addr: "[fe80::1]:7"}},
		{in: "tcp4:[::1]:7", err: "wants an IPv4 address"},
		{in: "tcp6:127.0.0.1:7", err: "wants an IPv6 address"},
		{in: "tcp8:123", err: `unknown prefix "tcp8:"`},
		{in: "udp:123", err: "UDP is not served"},
		{in: "udp6:[::1]:123", err: "UDP is not served"},
		{in: "unix:", err: "needs a socket path"},
		{in: ":99999", err: "port \"99999\""},
		{in: ":http", err: "port \"http\""},
		{in: "2345", err: "is not [HOST]:PORT"},
		{in: "prog", err: "is not [HOST]:PORT"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestTCPListenerReady(t *testing.T) {
	l, err := Listen(Spec{Kind: TCP, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.Ready(), "Listening on port ") || strings.HasSuffix(l.Ready(), " 0") {
		t.Errorf("Ready() = %q", l.Ready())
	}
	l.Close()
	if _, err := l.Accept(); err != ErrClosed {
		t.Errorf("Accept after Close = %v, want ErrClosed", err)
	}
}

func TestPortInUse(t *testing.T) {
	l, err := Listen(Spec{Kind: TCP, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strings.TrimPrefix(l.Ready(), "Listening on port ")
	_, err = Listen(Spec{Kind: TCP, Addr: "127.0.0.1:" + port})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("second Listen on port %s: %v, want address already in use", port, err)
	}
}

// TestSerialRaw opens the slave side of a pty as a serial line and checks
// that bytes pass unchanged both ways (no echo, no CR/LF translation).
func TestSerialRaw(t *testing.T) {
	master, slave := openPTY(t)
	l, err := Listen(Spec{Kind: Serial, Addr: slave})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Peer() != slave {
		t.Errorf("Peer() = %q, want %q", c.Peer(), slave)
	}
	msg := "$qSupported#37\r\n\x03"
	if _, err := master.WriteString(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := ioReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != msg {
		t.Errorf("server read %q, want %q", buf, msg)
	}
	if _, err := c.Write([]byte("+$OK#9a\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(master).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if got != "+$OK#9a\n" {
		t.Errorf("client read %q, want %q", got, "+$OK#9a\n")
	}
}

// TestListenByName: a host name is looked up in the hosts file (no DNS);
// an unknown one is a clear error.
func TestListenByName(t *testing.T) {
	hosts := t.TempDir() + "/hosts"
	if err := os.WriteFile(hosts, []byte("# comment\n127.0.0.1\tgsx-test-host other # trailing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := hostsFile
	hostsFile = hosts
	defer func() { hostsFile = old }()
	l, err := Listen(Spec{Kind: TCP, Addr: "gsx-test-host:0"})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, err = Listen(Spec{Kind: TCP, Addr: "no-such-host-here:0"})
	if err == nil || !strings.Contains(err.Error(), `"no-such-host-here"`) || !strings.Contains(err.Error(), hosts) {
		t.Errorf("Listen on an unknown name: %v", err)
	}
}

// TestAcceptPeers: each transport names the client as the tables show it,
// and the accepted socket carries bytes.
func TestAcceptPeers(t *testing.T) {
	sock := t.TempDir() + "/s.sock"
	for _, tc := range []struct {
		spec    Spec
		network string
		peer    *regexp.Regexp
	}{
		{Spec{Kind: TCP, Addr: "127.0.0.1:0"}, "tcp", regexp.MustCompile(`^127\.0\.0\.1:\d+$`)},
		{Spec{Kind: TCP, Addr: "[::1]:0"}, "tcp", regexp.MustCompile(`^\[::1\]:\d+$`)},
		{Spec{Kind: Unix, Addr: sock}, "unix", regexp.MustCompile(`^` + regexp.QuoteMeta(sock) + `$`)},
	} {
		l, err := Listen(tc.spec)
		if err != nil {
			if tc.spec.Addr == "[::1]:0" {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatal(err)
		}
		addr := tc.spec.Addr
		if tc.network == "tcp" {
			host, _, _ := splitHostPort(addr)
			addr = joinHostPort(host, strings.TrimPrefix(l.Ready(), "Listening on port "))
		}
		client, err := net.Dial(tc.network, addr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if !tc.peer.MatchString(c.Peer()) {
			t.Errorf("%v: peer %q, want %v", tc.spec, c.Peer(), tc.peer)
		}
		client.Write([]byte("$g#67"))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "$g#67" {
			t.Errorf("%v: read %q, %v", tc.spec, buf, err)
		}
		client.Close()
		c.Close()
		l.Close()
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the unix socket file is still there after Close: %v", err)
	}
}

// TestCloseWakesAccept: Close ends an Accept blocked in accept4.
func TestCloseWakesAccept(t *testing.T) {
	for _, spec := range []Spec{{Kind: TCP, Addr: "127.0.0.1:0"}, {Kind: Unix, Addr: t.TempDir() + "/w.sock"}} {
		l, err := Listen(spec)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := l.Accept()
			done <- err
		}()
		l.Close()
		select {
		case err := <-done:
			if err != ErrClosed {
				t.Errorf("%v: Accept after Close = %v, want ErrClosed", spec, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v: Close did not wake Accept", spec)
		}
	}
}

// TestUnixSocketModeAndPeer: a unix socket's file has the mode asked for
// (0600 by default), and an accepted connection knows its peer's
// process and user (SO_PEERCRED); a TCP connection has no such thing.
func TestUnixSocketModeAndPeer(t *testing.T) {
	for _, tc := range []struct {
		mode, want os.FileMode
	}{{0, 0o600}, {0o660, 0o660}} {
		sock := t.TempDir() + "/s"
		l, err := Listen(Spec{Kind: Unix, Addr: sock, Mode: tc.mode})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != tc.want {
			t.Errorf("mode %v: socket file %v, %v; want %v", tc.mode, st.Mode().Perm(), err, tc.want)
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conn, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		cred, ok := PeerCred(conn)
		if !ok || cred.PID != os.Getpid() || cred.UID != os.Getuid() || cred.GID != os.Getgid() {
			t.Errorf("PeerCred = %+v, %v; want this process", cred, ok)
		}
		conn.Close()
	}
	conn, _ := accepted(t)
	if cred, ok := PeerCred(conn); ok {
		t.Errorf("PeerCred of TCP = %+v", cred)
	}
}

// TestPublic: a TCP listener says when it is not on loopback.
func TestPublic(t *testing.T) {
	for addr, public := range map[string]bool{"127.0.0.1:0": false, "[::1]:0": false, "0.0.0.0:0": true} {
		l, err := Listen(Spec{Kind: TCP, Addr: addr})
		if err != nil {
			t.Logf("%s: %v", addr, err) // no IPv6 here
			continue
		}
		got, ok := Public(l)
		l.Close()
		if ok != public || ok && !strings.HasPrefix(got, "0.0.0.0:") {
			t.Errorf("Public(%s) = %q, %v", addr, got, ok)
		}
	}
}
