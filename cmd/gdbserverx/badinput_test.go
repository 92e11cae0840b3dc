package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/rsp"
)

// dial connects a typed RSP client to a server.
func dial(t *testing.T, srv *gdbtest.Proc) (*rsp.Client, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr(), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(gdbtest.Timeout))
	t.Cleanup(func() { conn.Close() })
	return rsp.NewClient(conn), conn
}

// call sends a raw payload and returns the reply payload.
func call(t *testing.T, c *rsp.Client, payload string) string {
	t.Helper()
	name := payload
	if len(name) > 40 {
		name = name[:40] + "..."
	}
	if err := c.SendPayload([]byte(payload)); err != nil {
		t.Fatalf("send %q: %v", name, err)
	}
	r, err := c.Wait()
	if err != nil {
		t.Fatalf("reply to %q: %v", name, err)
	}
	return string(r.Payload)
}

// TestMalformedPackets sends what gdb never would: each gets its
// documented reply and the connection lives on.
func TestMalformedPackets(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "spin"))
	c, conn := dial(t, srv)
	for _, tc := range []struct{ send, want string }{
		{"qSupported:multiprocess+;swbreak+", "PacketSize="},
		{"mzz,4", "E16"},
		{"m10", "E16"},
		{"M0,2:zz", "E16"},
		{"Z0,notanaddress,1", "E16"},
		{"Z9,1000,1", ""},
		{"vCont;x", "E16"},
		{"Hgpzz.1", "E16"},
		{"p99999", "E02"},
		{"m0,4", "E0e"},
		{"qDefinitelyNotAPacket", ""},
		{"vFile:pread:99,10,0", "F-1,9"},
		{"qXfer:features:read:nosuch.xml:0,100", "E02"},
		{"?", "T05"},
	} {
		got := call(t, c, tc.send)
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q: got %q, want %q...", tc.send, got, tc.want)
		}
	}

	// A bad checksum gets '-' and the retransmission is served.
	if _, err := conn.Write([]byte("$g#00")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if b, err := br.ReadByte(); err != nil || b != '-' {
		t.Fatalf("after a bad checksum: %q, %v; want '-'", b, err)
	}
	c = rsp.NewClient(struct {
		io.Reader
		io.Writer
	}{br, conn})
	if got := call(t, c, "g"); !regexp.MustCompile(`^[0-9a-fx]+$`).MatchString(got) {
		t.Errorf("g after retransmission: %q", got)
	}

	// An oversized packet is refused without buffering it, and the
	// connection lives on.
	big := "X0," + fmt.Sprint(0x30000) + ":" + strings.Repeat("a", 0x30000)
	if got := call(t, c, big); got != "E5a" {
		t.Errorf("oversized packet: %q, want E5a", got)
	}
	if got := call(t, c, "?"); !strings.HasPrefix(got, "T05") {
		t.Errorf("after an oversized packet: %q", got)
	}
}

// TestBadCommandLines checks what a user sees for mistakes on the command
// line: a message naming the problem, and exit status 1, without a
// process left behind.
func TestBadCommandLines(t *testing.T) {
	bin := gdbtest.Server(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"127.0.0.1:0", "/no/such/program"}, `/no/such/program.*no such file or directory`},
		{[]string{"127.0.0.1:0", "/etc/passwd"}, `/etc/passwd.*permission denied|not executable`},
		{[]string{"--attach", "127.0.0.1:0", "999999999"}, `999999999`},
		{[]string{"--attach", "127.0.0.1:0", "1"}, `attach 1|process 1`},
		{[]string{busy.Addr().String(), "/bin/true"}, `address already in use`},
		{[]string{"--bogus", ":1", "/bin/true"}, `flag provided but not defined: -bogus`},
		{[]string{}, `missing COMM`},
		{[]string{"tcp8:123", "/bin/true"}, `unknown prefix "tcp8:"`},
		{[]string{"udp:123", "/bin/true"}, `UDP is not served`},
		{[]string{"tcp4:[::1]:0", "/bin/true"}, `wants an IPv4 address`},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Errorf("gdbserverx %s: %v, want exit status 1\n%s", strings.Join(tc.args, " "), err, out)
		}
		if !regexp.MustCompile(`(?i)` + tc.want).Match(out) {
			t.Errorf("gdbserverx %s: output lacks %q:\n%s", strings.Join(tc.args, " "), tc.want, out)
		}
	}
}

// TestAttachAlreadyTraced attaches to a process another server traces.
func TestAttachAlreadyTraced(t *testing.T) {
	first := serve(t, gdbtest.Program(t, "spin"))
	_, m, err := first.Stderr.Wait(0, regexp.MustCompile(`created; pid = (\d+)$`), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gdbtest.Server(t), "--attach", "127.0.0.1:0", m[1]).CombinedOutput()
	if err == nil || !regexp.MustCompile(`already traced by (process )?\d+`).Match(out) {
		t.Errorf("attach to a traced process: %v\n%s", err, out)
	}
}

// programPid is the pid of the program a server started.
func programPid(t testing.TB, srv *gdbtest.Proc) int {
	t.Helper()
	_, m, err := srv.Stderr.Wait(0, regexp.MustCompile(`created; pid = (\d+)$`), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// mapping finds a mapping of pid at least size bytes long whose
// permissions start with perms ("r-x", "rw-"): its start address.
func mapping(t testing.TB, pid int, perms string, size uint64) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[1], perms) {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		if end-start >= size {
			return start
		}
	}
	t.Fatalf("process %d has no %s mapping of %d bytes", pid, perms, size)
	return 0
}

// TestDanglingEscape: a packet whose last byte is the escape '}' is
// malformed (E16), not data: the memory stays as it was (issue 13: OK, and
// 61 7d written).
func TestDanglingEscape(t *testing.T) {
	prog := gdbtest.Program(t, "spin")
	srv := serve(t, prog)
	addr := gdbtest.Symbol(t, prog, "spins")
	if addr < 0x400000 {
		addr = mapping(t, programPid(t, srv), "rw-", 8) // PIE
	}
	c, _ := dial(t, srv)
	m := fmt.Sprintf("m%x,2", addr)
	before := call(t, c, m)
	if got := call(t, c, fmt.Sprintf("X%x,2:a}", addr)); got != "E16" {
		t.Errorf("X with a dangling escape: %q, want E16", got)
	}
	if got := call(t, c, m); got != before {
		t.Errorf("memory at %#x: %s before, %s after", addr, before, got)
	}
}

// TestChecksumCutShort: a packet whose checksum is cut short by the next
// packet's '$' is answered '-', and the next packet is served (the server
// took that '$' for the checksum's and dropped the packet after it).
func TestChecksumCutShort(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "spin"))
	_, conn := dial(t, srv)
	if _, err := conn.Write([]byte("$g#6$?#3f")); err != nil {
		t.Fatal(err)
	}
	r := rsp.NewReader(conn, rsp.ReaderOptions{MaxPayload: rsp.DefaultClientMaxPayload, FromServer: true})
	var got []string
	for len(got) < 3 {
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, f.Kind.String()+" "+string(f.Payload))
	}
	if got[0] != "nak " || got[1] != "ack " || !strings.HasPrefix(got[2], "packet T05") {
		t.Errorf("got %q, want a nak, an ack and the reply to ?", got)
	}
}

// TestCommPrefixes: the COMM forms of gdb's own connection specs serve a
// real gdb: tcp4:, and tcp6: with the address in brackets or bare (the
// port after the last colon), on the loopback address of each family.
func TestCommPrefixes(t *testing.T) {
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		l.Close()
	}
	prog := gdbtest.Program(t, "basic")
	for _, tc := range []struct{ comm, target string }{
		{"tcp4:127.0.0.1:0", "tcp4:127.0.0.1:%d"},
		{"tcp6:[::1]:0", "tcp6:[::1]:%d"},
		{"tcp6:::1:0", "[::1]:%d"},
	} {
		srv := gdbtest.StartServer(t, gdbtest.Server(t), tc.comm, prog, "7")
		out := gdbtest.Batch(t, "target remote "+fmt.Sprintf(tc.target, srv.Port), "break square", "continue", "kill")
		if !regexp.MustCompile(`Breakpoint 1, square \(v=\d+\)`).MatchString(out) {
			t.Errorf("COMM %s, gdb's target remote %s: no breakpoint hit\n%s", tc.comm, fmt.Sprintf(tc.target, srv.Port), out)
		}
	}
}
