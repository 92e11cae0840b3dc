package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/rsp"
)

// These tests hold the server to its limits (README, "Limits and failure
// behaviour"): what a client sends outside packets, many packets at once,
// host files, descriptors running out. Raw packets, because gdb sends none
// of this; the server's memory read from /proc.

// statusKiB reads a "kB" field of /proc/PID/status (VmRSS, VmHWM).
func statusKiB(t testing.TB, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc/%d/status", field, pid)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestJunkOutsidePackets: bytes outside any packet (no '$') are dropped as
// they come, however many: 64 MiB of them cost the server no memory, and
// the connection lives on (issue 13: 100 MB cost 324 MB, kept after the
// client left).
func TestJunkOutsidePackets(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "spin"))
	c, conn := dial(t, srv)
	if got := call(t, c, "?"); !strings.HasPrefix(got, "T05") {
		t.Fatalf("?: %q", got)
	}
	pid := srv.Cmd.Process.Pid
	before := statusKiB(t, pid, "VmHWM")
	junk := bytes.Repeat([]byte("this is no packet: no dollar in it\r\n"), 1<<20/36)
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	for sent := 0; sent < 64<<20; sent += len(junk) {
		if _, err := conn.Write(junk); err != nil {
			t.Fatalf("after %d bytes of junk: %v", sent, err)
		}
	}
	if got := call(t, c, "?"); !strings.HasPrefix(got, "T05") {
		t.Errorf("? after the junk: %q", got)
	}
	after := statusKiB(t, pid, "VmHWM")
	t.Logf("server peak RSS %d KiB before 64 MiB of junk, %d KiB after", before, after)
	if after-before > 8<<10 {
		t.Errorf("64 MiB of junk grew the server's peak RSS from %d to %d KiB", before, after)
	}
}

// pipelined writes payloads as packets in one write, in ack mode, and
// returns the conn and a reader of the server's frames.
func pipelined(t *testing.T, srv *gdbtest.Proc, payloads ...string) (net.Conn, *rsp.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr(), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(gdbtest.Timeout))
	var b []byte
	for _, p := range payloads {
		b = rsp.AppendFrame(b, []byte(p))
	}
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	return conn, rsp.NewReader(conn, rsp.ReaderOptions{MaxPayload: rsp.DefaultClientMaxPayload, FromServer: true})
}

// replies reads n packets (and the acks between them) and returns them.
func replies(t *testing.T, r *rsp.Reader, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("after %d replies of %d: %v", len(out), n, err)
		}
		if f.Kind == rsp.FramePacket {
			out = append(out, string(f.Payload))
		}
	}
	return out
}

// TestPipelinedPackets: a client that sends many packets at once, in ack
// mode, and reads its replies is served, all of them, in order, at the
// pace it reads: 200 m packets in one write, then 1000 '-' (issue 13: both
// got "does not read its replies" and a closed connection).
func TestPipelinedPackets(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "spin"))
	addr := mapping(t, programPid(t, srv), "r-x", 4096)
	var ms []string
	for i := range 200 {
		ms = append(ms, fmt.Sprintf("m%x,4", addr+uint64(4*i)))
	}
	conn, r := pipelined(t, srv, ms...)
	got := replies(t, r, 200)
	for i, p := range got {
		if len(p) != 8 {
			t.Fatalf("reply %d to %s: %q", i, ms[i], p)
		}
	}
	if _, err := conn.Write(bytes.Repeat([]byte{'-'}, 1000)); err != nil {
		t.Fatal(err)
	}
	for i, p := range replies(t, r, 1000) {
		if p != got[199] {
			t.Fatalf("resend %d: %q, want the last reply %q", i, p, got[199])
		}
	}
	if _, err := conn.Write(rsp.AppendFrame(nil, []byte("?"))); err != nil {
		t.Fatal(err)
	}
	if p := replies(t, r, 1); !strings.HasPrefix(p[0], "T05") {
		t.Errorf("? after: %q", p)
	}
	if s := srv.Stderr.String(); strings.Contains(s, "does not read") {
		t.Errorf("server stderr:\n%s", s)
	}
}

// TestPipelinedBigReplies: 400 requests for 64 KiB each (50 MiB of
// replies) sent at once by a client that reads nothing until the server
// has paused it. The server holds at most about a quarter MiB of replies:
// it stops serving the client (--debug says so) until the client reads,
// then serves every request.
func TestPipelinedBigReplies(t *testing.T) {
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--debug", "127.0.0.1:0", gdbtest.Program(t, "spin"))
	pid := srv.Cmd.Process.Pid
	addr := mapping(t, programPid(t, srv), "r", 0x10000)
	c, _ := dial(t, srv)
	if err := c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	before := statusKiB(t, pid, "VmRSS")
	const n = 400
	req := fmt.Sprintf("m%x,ffff", addr) // the most one reply holds
	for range n {
		if err := c.SendPayload([]byte(req)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`client #1: paused: `), gdbtest.Timeout); err != nil {
		t.Fatal(err)
	}
	paused := statusKiB(t, pid, "VmRSS")
	for i := range n {
		f, err := c.Recv()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if len(f.Payload) != 2*0xffff {
			t.Fatalf("reply %d: %d bytes, want %d", i, len(f.Payload), 2*0xffff)
		}
	}
	peak := statusKiB(t, pid, "VmHWM")
	t.Logf("server RSS %d KiB before, %d KiB paused, peak %d KiB after %d MiB of replies", before, paused, peak, n*0x20000>>20)
	if paused-before > 16<<10 || peak-before > 32<<10 {
		t.Errorf("server RSS %d KiB before, %d KiB when paused, peak %d KiB: replies were kept", before, paused, peak)
	}
}

// TestHostFileLimit: a client may hold maxHostFiles (1024) host files
// open; the next vFile:open gets EMFILE (F-1,18), and a close makes room.
func TestHostFileLimit(t *testing.T) {
	prog := gdbtest.Program(t, "spin")
	srv := serve(t, prog)
	c, _ := dial(t, srv)
	if err := c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	open := "vFile:open:" + hexString(prog) + ",0,0"
	var fds []string
	for {
		got := call(t, c, open)
		if !strings.HasPrefix(got, "F") || strings.HasPrefix(got, "F-1") {
			if got != "F-1,18" {
				t.Fatalf("open %d: %q, want F-1,18 at the limit", len(fds)+1, got)
			}
			break
		}
		fds = append(fds, got[1:])
		if len(fds) > 1024 {
			t.Fatalf("%d files open, the limit is 1024", len(fds))
		}
	}
	if len(fds) != 1024 {
		t.Errorf("%d files opened before F-1,18, want 1024", len(fds))
	}
	if got := call(t, c, "vFile:close:"+fds[0]); got != "F0" {
		t.Fatalf("close: %q", got)
	}
	if got := call(t, c, open); !strings.HasPrefix(got, "F") || strings.HasPrefix(got, "F-1") {
		t.Errorf("open after a close: %q", got)
	}
}

func hexString(s string) string { return fmt.Sprintf("%x", s) }

// fdsBelow counts a process's descriptors numbered below n.
func fdsBelow(t *testing.T, pid, n int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	below := 0
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd < n {
			below++
		}
	}
	return below
}

// TestAcceptRetries: with the server out of descriptors (a client opened
// files until F-1,18 under a lowered RLIMIT_NOFILE), a new connection
// waits in the backlog; once a descriptor frees, it is served (issue 13:
// the listener stopped for good: "accept: too many open files").
func TestAcceptRetries(t *testing.T) {
	prog := gdbtest.Program(t, "spin")
	srv := serve(t, prog)
	pid := srv.Cmd.Process.Pid
	a, _ := dial(t, srv)
	if err := a.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	// A few descriptors above what the server has open now.
	lim := unix.Rlimit{Cur: uint64(countFDs(t, pid) + 8), Max: uint64(countFDs(t, pid) + 8)}
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, &old); err != nil {
		t.Skipf("prlimit on the server: %v", err)
	}
	t.Logf("server RLIMIT_NOFILE %d (was %d)", lim.Cur, old.Cur)
	open := "vFile:open:" + hexString(prog) + ",0,0"
	var fds []string
	for {
		got := call(t, a, open)
		if got == "F-1,18" {
			break
		}
		if !strings.HasPrefix(got, "F") || strings.HasPrefix(got, "F-1") || len(fds) > 16 {
			t.Fatalf("open %d: %q, want F-1,18 once descriptors run out", len(fds)+1, got)
		}
		fds = append(fds, got[1:])
	}
	if len(fds) == 0 {
		t.Fatal("no file could be opened")
	}
	// A vFile:open needs two descriptors for a moment (the file is
	// checked through an O_PATH descriptor, then opened through it:
	// server/confine.go), so one may be left: a client takes it. The
	// limit is on descriptor numbers (one inherited above it does not
	// count), and an accept that waits holds a number already (Linux
	// reserves it before it waits), which /proc/PID/fd does not list.
	var extra []*rsp.Client
	for n := int(lim.Cur) - fdsBelow(t, pid, int(lim.Cur)) - 1; n > 0; n-- {
		x, _ := dial(t, srv)
		if got := call(t, x, "qSupported"); !strings.Contains(got, "PacketSize=") {
			t.Fatalf("a client taking a descriptor left: %q", got)
		}
		extra = append(extra, x)
	}
	t.Logf("%d files open, %d more clients", len(fds), len(extra))
	// The kernel completes the connections (backlog). The waiting
	// accept takes the first with the descriptor it holds; the next
	// accept fails.
	b, _ := dial(t, srv)
	if err := b.SendPayload([]byte("qSupported")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Cannot accept a connection \(accept: too many open files\); trying again`), gdbtest.Timeout); err != nil {
		t.Fatal(err)
	}
	c, _ := dial(t, srv)
	if err := c.SendPayload([]byte("qSupported")); err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if got := call(t, a, "vFile:close:"+fd); got != "F0" {
			t.Fatalf("close %s: %q", fd, got)
		}
	}
	for i, cl := range []*rsp.Client{b, c} {
		r, err := cl.Wait()
		if err != nil || !strings.Contains(string(r.Payload), "PacketSize=") {
			t.Fatalf("client %d once descriptors are free: %q, %v", i+2, r.Payload, err)
		}
	}
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Accepting connections again$`), gdbtest.Timeout); err != nil {
		t.Error(err)
	}
	// Every client works.
	for _, c := range append([]*rsp.Client{a, b, c}, extra...) {
		if got := call(t, c, "?"); !strings.HasPrefix(got, "T05") {
			t.Errorf("?: %q", got)
		}
	}
}
