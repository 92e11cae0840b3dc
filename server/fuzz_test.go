package server

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// FuzzServer is the whole server, packets in and replies out, on the fake
// target (routing_test.go): a client's byte stream goes through the same
// framing, acks, backpressure and serving as a socket's (connIO.frames),
// and whenever the program runs the fake stops it (a signal). It checks
// that the server answers every packet with exactly one reply (console
// output aside) for as long as the client is connected, that what it
// keeps for the client stays within its limits, and that a client that
// leaves leaves nothing behind.
//
// data is a list of payloads, one a line, that the harness frames and
// escapes; with raw, data is the byte stream itself (framing, junk,
// interrupts, bad checksums), followed by a '?' that must be answered.
// Host I/O that could change the host's files, or block (vFile:unlink,
// pwrite, an open for writing, an open of a FIFO or a terminal), is left
// out: the fake target is fake, the host is not. Only the test binary
// itself may be opened.
func FuzzServer(f *testing.F) {
	for _, s := range serverSeeds(f) {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("$m404060,4#00$?#3f\x03junk$X404060,2:a}#fc+-"), true)
	f.Add([]byte("$qSupported#37"+strings.Repeat("$m0,4#fd", 40)+strings.Repeat("-", 40)), true)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		var stream []byte
		packets := 0
		if raw {
			if !hostSafe(framedPayloads(data)) {
				return
			}
			stream = append(append(stream, data...), "$?#3f"...)
		} else {
			lines := strings.Split(string(data), "\n")
			if !hostSafe(lines) {
				return
			}
			for _, p := range lines {
				stream = rsp.AppendFrame(stream, rsp.AppendEscaped(nil, []byte(p)))
			}
			packets = len(lines)
			// In extended mode k has no reply (gdbserver's); gdb
			// waits for none.
			extended := false
			for _, p := range lines {
				extended = extended || p == "!"
				if p == "k" && extended {
					packets--
				}
			}
		}
		h := newHarness(t)
		h.s.cfg.Backend = fakeBackend{}
		h.s.cfg.Multi = true
		c := h.client()
		c.multiprocess, c.swbreak = false, false
		var replies []string
		last := ""
		passed := 0 // stops in a row that left the program running
		for len(stream) > 0 || c.io.held {
			// What a read would take (at most maxInput), then serve,
			// then do what the writer and the target would.
			n := copy(c.io.ep.Space(), stream)
			c.io.ep.Filled(n)
			stream = stream[n:]
			progress := n > 0 || c.io.held
			h.s.serve(c)
			for drained := false; !drained; {
				drained = true
				h.s.settle() // as the core loop does after each message
				h.s.sweep()
				for got := h.written(c); len(got) > 0; got = h.written(c) {
					drained = false
					for _, r := range got {
						if _, ok := rsp.DecodeConsoleOutput([]byte(r)); !ok {
							replies = append(replies, r)
							last = r
						}
					}
				}
				if p := h.s.procs.main(); p != nil && p.running && c.state != clientGone {
					// A signal stop; one the client passes (QPassSignals)
					// resumes at once, so after a few the program exits.
					if passed++; passed > 3 {
						h.event(target.Event{Kind: target.EventExited})
					} else {
						h.event(stopped(target.ThreadStop{Tid: 100, Reason: target.StopSignal, Signal: 10}))
					}
					drained = false
				} else {
					passed = 0
				}
			}
			if c.state == clientGone || h.s.exit {
				break
			}
			if !progress {
				t.Fatalf("the server makes no progress: %d bytes of input held", c.io.ep.Buffered())
			}
			// Limits: what the server keeps for the client.
			if c.io.ep.Buffered() > maxInput || len(c.io.ep.Output()) > maxUnwritten || len(c.queued) > maxQueuedRequests || len(c.notices) > maxQueuedNotices || len(c.files.open) > maxHostFiles {
				t.Fatalf("kept for the client: input %d, output %d, %d packets, %d notices, %d files", c.io.ep.Buffered(), len(c.io.ep.Output()), len(c.queued), len(c.notices), len(c.files.open))
			}
		}
		if c.state != clientGone && !h.s.exit {
			if !raw && len(replies) != packets {
				t.Fatalf("%d packets, %d replies: %q", packets, len(replies), replies)
			}
			if raw && !isHaltReply(last) {
				t.Fatalf("the last reply, to '?': %q", last)
			}
		}
		// A client that leaves leaves nothing behind.
		if c.state != clientGone {
			h.s.disconnect(c, nil)
		}
		h.s.sweep()
		if p := h.s.procs.main(); p != nil {
			for addr, b := range p.breaks {
				if b.owners[c] {
					t.Fatalf("breakpoint %#x still owned by the client", addr)
				}
			}
			for _, st := range p.pending {
				if _, ok := st.to[c]; ok {
					t.Fatalf("a stop still pending for the client")
				}
			}
			if p.dp.Knows(c.id) {
				t.Fatalf("debugpoints of the client left: an owner, pending removals or emulated watchpoints")
			}
		}
		if len(c.files.open) != 0 || len(h.s.clients) != 0 {
			t.Fatalf("%d host files still open, %d clients", len(c.files.open), len(h.s.clients))
		}
	})
}

// written takes what the server gave the client's writer, as the writer
// would (the harness has none): payloads of packets, '+' and '-' left out.
func (h *harness) written(c *client) []string {
	return takePayloads(c)
}

// isHaltReply says whether r answers '?': a stop reply, or the end of the
// process.
func isHaltReply(r string) bool {
	return r != "" && strings.ContainsRune("TSWX", rune(r[0]))
}

// hostSafe says whether none of the payloads could change the host's
// files or block: vFile:unlink, vFile:pwrite, and vFile:open but for
// reading the test binary.
func hostSafe(payloads []string) bool {
	for _, p := range payloads {
		if !strings.Contains(p, "vFile:") {
			continue
		}
		req, err := rsp.Parse([]byte(p))
		if err != nil {
			continue
		}
		switch r := req.(type) {
		case *rsp.FileUnlink, *rsp.FileWrite:
			return false
		case *rsp.FileOpen:
			if r.Flags != 0 || r.Path != testBinary {
				return false
			}
		}
	}
	return true
}

// testBinary is the one host file the fuzzer may open.
var testBinary, _ = os.Executable()

// framedPayloads returns the payloads of the packets in a raw stream, as
// the server's framing finds them.
func framedPayloads(data []byte) []string {
	var out []string
	r := rsp.NewReader(bytes.NewReader(data), rsp.ReaderOptions{MaxPayload: PacketSize})
	for {
		f, err := r.ReadFrame()
		if f.Kind == rsp.FramePacket && f.Payload != nil {
			out = append(out, string(f.Payload))
		}
		if err != nil && f.Kind == 0 {
			return out
		}
	}
}

// fakeBackend starts and attaches fake processes (vRun, vAttach). Their
// events are queued by the test itself: no event fd to poll.
type fakeBackend struct{}

func (fakeBackend) Open() error                               { return nil }
func (fakeBackend) Launch(LaunchSpec) (target.Process, error) { return newFakeProcess(), nil }
func (fakeBackend) Attach(int) (target.Process, error)        { return newFakeProcess(), nil }
func (fakeBackend) EventFd() int                              { return -1 }
func (fakeBackend) Pump()                                     {}

// serverSeeds are sessions of gdb from rsp's transcripts (the packets gdb
// sent, 40 at a time) and the packets of issue 13.
func serverSeeds(tb testing.TB) []string {
	seeds := []string{
		"X404060,2:a}",
		"qSupported:multiprocess+\nQStartNoAckMode\nZ2,404040,8\nvCont;c\n?\nz2,404040,8\nD",
		strings.Repeat("m404040,4\n", 200) + "?",
		"Z0,401000,1\nvCont;s\nvCont;c\nqRcmd,736c6f7473\nk",
		"vAttach;64\nvRun;\nvKill;64\nqRcmd,65786974",
		"vFile:setfs:0\nvFile:open:" + fmt.Sprintf("%x", testBinary) + ",0,0\nvFile:pread:1,3fff,0\nvFile:fstat:1\nvFile:close:1",
	}
	files, _ := filepath.Glob("../rsp/testdata/transcript-*.txt")
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		var payloads []string
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "> ")
			if !ok {
				continue
			}
			frame, err := strconv.Unquote(line)
			if err != nil || !strings.HasPrefix(frame, "$") {
				continue
			}
			if i := strings.LastIndexByte(frame, '#'); i > 0 && !strings.Contains(frame[1:i], "\n") {
				payloads = append(payloads, frame[1:i])
			}
		}
		fh.Close()
		for i := 0; i < len(payloads); i += 40 {
			seeds = append(seeds, strings.Join(payloads[i:min(i+40, len(payloads))], "\n"))
		}
	}
	return seeds
}
