package comm

import (
	"bufio"
	"strings"
	"testing"
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
