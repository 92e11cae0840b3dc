package rsp

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// stdio joins a process's stdout and stdin into one stream.
type stdio struct {
	io.Reader
	io.Writer
}

// TestClientAgainstGNUGdbserver drives GNU gdbserver (COMM "-": stdin and
// stdout) with Client: the acks, the no-ack handshake, run-length encoded
// replies and stop replies of a real server.
func TestClientAgainstGNUGdbserver(t *testing.T) {
	path, err := exec.LookPath("gdbserver")
	if err != nil {
		t.Skip("GNU gdbserver not installed")
	}
	prog, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to debug")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--once", "-", prog)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			t.Logf("gdbserver: %v\n%s", err, stderr.Bytes())
		}
	}()
	cli := NewClient(stdio{stdout, stdin})

	r, err := cli.Call(&QuerySupported{Features: []Feature{
		{Name: "multiprocess", State: FeatureSupported},
		{Name: "swbreak", State: FeatureSupported},
		{Name: "vContSupported", State: FeatureSupported},
	}})
	if err != nil {
		t.Fatalf("qSupported: %v\n%s", err, stderr.Bytes())
	}
	if !strings.Contains(string(r.Payload), "PacketSize=") || !strings.Contains(string(r.Payload), "QStartNoAckMode+") {
		t.Fatalf("qSupported reply %q", r.Payload)
	}
	if err := cli.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	r, err = cli.Call(&QueryHaltReason{})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := ParseStopReply(r.Payload)
	if err != nil || stop.Kind != StopSignal || stop.Signal != SignalTRAP || !stop.HasThread || !stop.Thread.Multiprocess {
		t.Fatalf("? reply %q: %+v, %v", r.Payload, stop, err)
	}
	// g replies are long runs of zeros: gdbserver run-length encodes them.
	r, err = cli.Call(&ReadRegisters{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeHex(nil, bytes.ReplaceAll(r.Payload, []byte("xx"), []byte("00"))); err != nil || len(r.Payload) < 2*8*17 {
		t.Fatalf("g reply %q is not register data: %v", r.Payload, err)
	}
	r, err = cli.Call(&ReadXfer{Object: XferFeatures, Annex: "target.xml", Length: 0xfff})
	if err != nil || len(r.Payload) == 0 || !bytes.Contains(r.Payload, []byte("<target")) {
		t.Fatalf("target.xml reply %q, %v", r.Payload, err)
	}
	r, err = cli.Call(&ReadMemory{Addr: 0, Length: 1})
	if _, ok := ParseErrorReply(r.Payload); err != nil || !ok {
		t.Fatalf("m0,1 reply %q, %v; want an error", r.Payload, err)
	}
	r, err = cli.Call(&Resume{Actions: []ResumeAction{{Kind: ResumeContinue}}})
	if err != nil {
		t.Fatal(err)
	}
	stop, err = ParseStopReply(r.Payload)
	if err != nil || stop.Kind != StopExited || stop.ExitCode != 0 {
		t.Fatalf("vCont;c reply %q: %+v, %v", r.Payload, stop, err)
	}
}
