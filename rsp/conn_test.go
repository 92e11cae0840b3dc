package rsp

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pipe returns the two ends of an in-memory connection, with a deadline
// so that a broken test fails instead of hanging.
func pipe(t *testing.T) (a, b net.Conn) {
	t.Helper()
	a, b = net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range []net.Conn{a, b} {
		if err := c.SetDeadline(deadline); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// expectBytes reads exactly len(want) bytes from c.
func expectBytes(t *testing.T, c io.Reader, want string) {
	t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading %q: %v", want, err)
	}
	if string(got) != want {
		t.Fatalf("read %q, want %q", got, want)
	}
}

func write(t *testing.T, c io.Writer, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("writing %q: %v", s, err)
	}
}

type readResult struct {
	frame   Frame
	payload string
	err     error
}

// readAsync runs one ReadFrame in a goroutine: with net.Pipe every write
// waits for its reader, and ReadFrame writes acks.
func readAsync(c *Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		f, err := c.ReadFrame()
		ch <- readResult{f, string(f.Payload), err}
	}()
	return ch
}

func TestConnAcksPackets(t *testing.T) {
	srv, peer := pipe(t)
	c := NewConn(srv, ConnOptions{})
	res := readAsync(c)
	write(t, peer, "junk"+pkt("qC"))
	expectBytes(t, peer, "+")
	r := <-res
	if r.err != nil || r.frame.Kind != FramePacket || r.payload != "qC" {
		t.Fatalf("ReadFrame = %+v", r)
	}
}

func TestConnNaksBadChecksum(t *testing.T) {
	srv, peer := pipe(t)
	c := NewConn(srv, ConnOptions{})
	res := readAsync(c)
	write(t, peer, "$qC#00")
	expectBytes(t, peer, "-")
	r := <-res
	var ce *ChecksumError
	if !errors.As(r.err, &ce) || r.payload != "qC" {
		t.Fatalf("ReadFrame = %+v, want a checksum error with the payload", r)
	}
}

func TestConnResendsOnNak(t *testing.T) {
	srv, peer := pipe(t)
	c := NewConn(srv, ConnOptions{})
	done := make(chan error, 1)
	go func() { done <- c.WritePacket([]byte("OK")) }()
	expectBytes(t, peer, "$OK#9a")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res := readAsync(c)
	write(t, peer, "-")
	expectBytes(t, peer, "$OK#9a") // sent again
	write(t, peer, "+")
	write(t, peer, "-") // nothing left to resend after the ack
	write(t, peer, pkt("g"))
	expectBytes(t, peer, "+")
	r := <-res
	if r.err != nil || r.payload != "g" {
		t.Fatalf("ReadFrame = %+v", r)
	}
}

func TestConnOversizeIsAcked(t *testing.T) {
	srv, peer := pipe(t)
	c := NewConn(srv, ConnOptions{Reader: ReaderOptions{MaxPayload: 4}})
	res := readAsync(c)
	write(t, peer, pkt("M0,4:00000000"))
	expectBytes(t, peer, "+")
	r := <-res
	var oe *OversizeError
	if !errors.As(r.err, &oe) || oe.Code() != CodeTooLarge {
		t.Fatalf("ReadFrame = %+v, want an oversize error", r)
	}
}

func TestConnDanglingEscapeIsAcked(t *testing.T) {
	srv, peer := pipe(t)
	c := NewConn(srv, ConnOptions{})
	res := readAsync(c)
	write(t, peer, pkt("X404060,2:a}"))
	expectBytes(t, peer, "+")
	r := <-res
	var ee *EscapeError
	if !errors.As(r.err, &ee) || ee.Code() != CodeInvalid || r.payload != "" {
		t.Fatalf("ReadFrame = %+v, want an escape error and no payload", r)
	}
}

func TestConnInterruptNotAcked(t *testing.T) {
	srv, peer := pipe(t)
	c := NewConn(srv, ConnOptions{})
	res := readAsync(c)
	write(t, peer, "\x03")
	r := <-res
	if r.err != nil || r.frame.Kind != FrameInterrupt {
		t.Fatalf("ReadFrame = %+v", r)
	}
}

// TestConnNoAckHandshake plays both sides of QStartNoAckMode as gdb and
// gdbserver do it: the request is acked, SetNoAck comes before the OK, gdb
// acks the OK, and from then on nothing is acked.
func TestConnNoAckHandshake(t *testing.T) {
	srv, peer := pipe(t)
	c := NewConn(srv, ConnOptions{})
	res := readAsync(c)
	write(t, peer, pkt("QStartNoAckMode"))
	expectBytes(t, peer, "+")
	if r := <-res; r.err != nil || r.payload != "QStartNoAckMode" {
		t.Fatalf("ReadFrame = %+v", r)
	}
	c.SetNoAck()
	done := make(chan error, 1)
	go func() { done <- c.WritePacket(AppendOK(nil)) }()
	expectBytes(t, peer, "$OK#9a")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res = readAsync(c)
	write(t, peer, "+")     // gdb's last ack, ignored
	write(t, peer, "-")     // nothing is resent in no-ack mode
	write(t, peer, "$g#00") // a bad checksum is reported, not naked
	if r := <-res; r.err == nil || r.payload != "g" {
		t.Fatalf("ReadFrame = %+v, want a checksum error", r)
	}
	res = readAsync(c)
	write(t, peer, pkt("g"))
	if r := <-res; r.err != nil || r.payload != "g" {
		t.Fatalf("ReadFrame = %+v", r)
	}
	go func() { done <- c.WritePacket([]byte("00")) }()
	expectBytes(t, peer, "$00#60") // and no ack was written before it
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestClientServer runs Client against a Conn-based echo server.
func TestClientServer(t *testing.T) {
	srvEnd, cliEnd := pipe(t)
	srv := NewConn(srvEnd, ConnOptions{})
	serverDone := make(chan error, 1)
	go func() {
		var p Parser
		for {
			f, err := srv.ReadFrame()
			if err != nil {
				serverDone <- err
				return
			}
			if f.Kind == FrameInterrupt {
				stop := StopReply{Kind: StopSignal, Signal: SignalINT}
				if err := srv.WritePacketRLE(stop.AppendPayload(nil)); err != nil {
					serverDone <- err
					return
				}
				continue
			}
			req, err := p.Parse(f.Payload)
			var reply []byte
			switch r := req.(type) {
			case nil:
				var pe *ParseError
				errors.As(err, &pe)
				reply = AppendError(nil, pe.Code)
			case *StartNoAckMode:
				srv.SetNoAck()
				reply = AppendOK(nil)
			case *MonitorCommand:
				if err := srv.WritePacket(AppendConsoleOutput(nil, "echo "+r.Command+"\n")); err != nil {
					serverDone <- err
					return
				}
				reply = AppendOK(nil)
			case *ReadMemory:
				reply = AppendHex(nil, make([]byte, r.Length))
			case *Detach:
				serverDone <- srv.WritePacket(AppendOK(nil))
				return
			}
			if err := srv.WritePacketRLE(reply); err != nil {
				serverDone <- err
				return
			}
		}
	}()

	cli := NewClient(cliEnd)
	r, err := cli.Call(&ReadMemory{Addr: 0x1000, Length: 64})
	if err != nil || string(r.Payload) != string(AppendHex(nil, make([]byte, 64))) {
		t.Fatalf("m reply = %q, %v", r.Payload, err)
	}
	if err := cli.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	r, err = cli.Call(&MonitorCommand{Command: "help"})
	if err != nil || string(r.Payload) != "OK" || string(r.Output) != "echo help\n" {
		t.Fatalf("qRcmd reply = %q output %q, %v", r.Payload, r.Output, err)
	}
	if err := cli.SendPayload([]byte("m1")); err != nil {
		t.Fatal(err)
	}
	r, err = cli.Wait()
	if code, ok := ParseErrorReply(r.Payload); err != nil || !ok || code != CodeInvalid {
		t.Fatalf("malformed m reply = %q, %v", r.Payload, err)
	}
	r, err = cli.Call(&Unknown{Payload: []byte("qFuture")})
	if err != nil || len(r.Payload) != 0 {
		t.Fatalf("unknown packet reply = %q, %v", r.Payload, err)
	}
	if err := cli.Conn().WriteInterrupt(); err != nil {
		t.Fatal(err)
	}
	r, err = cli.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ParseStopReply(r.Payload); err != nil || s.Signal != SignalINT {
		t.Fatalf("interrupt reply = %q, %v", r.Payload, err)
	}
	if _, err := cli.Call(&Detach{}); err != nil {
		t.Fatal(err)
	}
	if err := <-serverDone; err != nil {
		t.Fatal(err)
	}
}
