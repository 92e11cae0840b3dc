package rsp

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// pkt frames payload with its correct checksum, for test inputs.
func pkt(payload string) string { return string(AppendFrame(nil, []byte(payload))) }

// frameResult is what one ReadFrame call gives, in comparable form.
type frameResult struct {
	kind    FrameKind
	payload string
	err     string // "", "checksum", "oversize", "escape", "eof", "unexpected-eof"
}

func resultOf(f Frame, err error) frameResult {
	r := frameResult{kind: f.Kind, payload: string(f.Payload)}
	var ce *ChecksumError
	var oe *OversizeError
	var ee *EscapeError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		r.err = "checksum"
	case errors.As(err, &oe):
		r.err = "oversize"
	case errors.As(err, &ee):
		r.err = "escape"
	case err == io.EOF:
		r.err = "eof"
	case err == io.ErrUnexpectedEOF:
		r.err = "unexpected-eof"
	default:
		r.err = err.Error()
	}
	return r
}

func TestReadFrame(t *testing.T) {
	server := ReaderOptions{}
	client := ReaderOptions{FromServer: true}
	small := ReaderOptions{MaxPayload: 4}
	for _, tc := range []struct {
		name string
		opts ReaderOptions
		in   string
		want []frameResult
		rest string // bytes left unread after the frames
	}{
		{"packet", server, "$g#67", []frameResult{{FramePacket, "g", ""}}, ""},
		{"empty packet", server, "$#00", []frameResult{{FramePacket, "", ""}}, ""},
		{"upper-case checksum", server, "$m0,1#FA", []frameResult{{FramePacket, "m0,1", ""}}, ""},
		{"leaves the next frame unread", server, "$g#67+$m0", []frameResult{{FramePacket, "g", ""}, {FrameAck, "", ""}}, "$m0"},
		{"ack nak interrupt", server, "+-\x03", []frameResult{{FrameAck, "", ""}, {FrameNak, "", ""}, {FrameInterrupt, "", ""}}, ""},
		{"junk skipped", server, "junk\r\n$g#67", []frameResult{{FramePacket, "g", ""}}, ""},
		{"eof between frames", server, "", []frameResult{{0, "", "eof"}}, ""},
		{"eof inside payload", server, "$abc", []frameResult{{0, "", "unexpected-eof"}}, ""},
		{"eof inside checksum", server, "$g#6", []frameResult{{0, "", "unexpected-eof"}}, ""},
		{"bad checksum keeps payload, next packet read", server, "$g#00" + pkt("?"),
			[]frameResult{{FramePacket, "g", "checksum"}, {FramePacket, "?", ""}}, ""},
		{"checksum not hex", server, "$g#zz+", []frameResult{{FramePacket, "g", "checksum"}, {FrameAck, "", ""}}, ""},
		{"packet cut short by a new one", server, "$abc" + pkt("g"), []frameResult{{FramePacket, "g", ""}}, ""},
		{"new packet in place of checksum", server, "$g#6" + pkt("?"),
			[]frameResult{{FramePacket, "g", "checksum"}, {FramePacket, "?", ""}}, ""},
		{"escape undone", server, pkt("X0,4:}]}\x03}\x04}\n"), []frameResult{{FramePacket, "X0,4:}#$*", ""}}, ""},
		{"dangling escape refused, next packet read", server, pkt("X404060,2:a}") + pkt("g"),
			[]frameResult{{FramePacket, "", "escape"}, {FramePacket, "g", ""}}, ""},
		{"dangling escape from a server", client, pkt("OK}"), []frameResult{{FramePacket, "", "escape"}}, ""},
		{"escaped escape at the end is data", server, pkt("a}]"), []frameResult{{FramePacket, "a}", ""}}, ""},
		{"dangling escape with bad checksum is a checksum error", server, "$a}#00", []frameResult{{FramePacket, "a", "checksum"}}, ""},
		{"interrupt byte inside a packet is data", server, pkt("X0,1:\x03"), []frameResult{{FramePacket, "X0,1:\x03", ""}}, ""},
		{"ack bytes inside a packet are data", server, pkt("a+-b"), []frameResult{{FramePacket, "a+-b", ""}}, ""},
		{"no run-length decoding from a client", server, pkt("X0,2:0* "), []frameResult{{FramePacket, "X0,2:0* ", ""}}, ""},
		{"percent is junk from a client", server, "%Stop:T05#00" + pkt("g"), []frameResult{{FramePacket, "g", ""}}, ""},
		{"run-length from a server", client, pkt("0* "), []frameResult{{FramePacket, "0000", ""}}, ""},
		{"run-length counts", client, pkt("0*\"0,1*!"), []frameResult{{FramePacket, "0000000,11111", ""}}, ""},
		{"run-length count may be a star", client, pkt("0**"), []frameResult{{FramePacket, strings.Repeat("0", 14), ""}}, ""},
		{"run-length repeats the byte as sent", client, pkt("}]*!"), []frameResult{{FramePacket, "}]]]]", ""}}, ""},
		{"leading star is data", client, pkt("*x"), []frameResult{{FramePacket, "*x", ""}}, ""},
		{"star before the end is data", client, pkt("a*"), []frameResult{{FramePacket, "a*", ""}}, ""},
		{"notification from a server", client, "%Stop:T05#" + string(appendHexByte(nil, Checksum([]byte("Stop:T05")))),
			[]frameResult{{FrameNotification, "Stop:T05", ""}}, ""},
		{"oversize discarded, next packet read", small, pkt("abcdef") + pkt("g"),
			[]frameResult{{FramePacket, "", "oversize"}, {FramePacket, "g", ""}}, ""},
		{"limit counts decoded bytes", small, pkt("}]}]}]}]"), []frameResult{{FramePacket, "}}}}", ""}}, ""},
		{"at the limit", small, pkt("abcd"), []frameResult{{FramePacket, "abcd", ""}}, ""},
		{"oversize with bad checksum is a checksum error", small, "$abcdef#00", []frameResult{{FramePacket, "", "checksum"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), tc.opts)
			for i, want := range tc.want {
				got := resultOf(r.ReadFrame())
				if got != want {
					t.Errorf("frame %d = %+v, want %+v", i, got, want)
				}
			}
			rest, _ := io.ReadAll(r.br)
			if string(rest) != tc.rest {
				t.Errorf("left unread %q, want %q", rest, tc.rest)
			}
		})
	}
}

func TestChecksumErrorValues(t *testing.T) {
	r := NewReader(strings.NewReader("$g#00$g#zz"), ReaderOptions{})
	_, err := r.ReadFrame()
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Sent != 0 || ce.Computed != 0x67 {
		t.Fatalf("err = %v, want sent 00 computed 67", err)
	}
	_, err = r.ReadFrame()
	if !errors.As(err, &ce) || ce.Sent != -1 {
		t.Fatalf("err = %v, want sent -1", err)
	}
}

func TestOversizeErrorValues(t *testing.T) {
	r := NewReader(strings.NewReader(pkt(strings.Repeat("x", 100))), ReaderOptions{MaxPayload: 10})
	_, err := r.ReadFrame()
	var oe *OversizeError
	if !errors.As(err, &oe) || oe.Limit != 10 || oe.Length != 100 || oe.Code() != CodeTooLarge {
		t.Fatalf("err = %v, want limit 10 length 100", err)
	}
}

// repeatReader yields its data over and over, without allocating.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

func TestReadFrameDoesNotAllocate(t *testing.T) {
	in := pkt("vCont;c:p2987.-1") + "+" + pkt("X401000,8:}]}]abcdef") + pkt(strings.Repeat("m", 3000))
	r := NewReader(&repeatReader{data: []byte(in)}, ReaderOptions{})
	for range 10 { // grow the payload buffer once
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadFrame allocates %v times per frame, want 0", allocs)
	}
}

// hugePacketReader sends "$", size bytes of payload, "#00" (a bad
// checksum, so that only the bound matters), then a good packet, without
// holding the payload in memory.
type hugePacketReader struct {
	size, sent int64
	tail       string
}

var hugeFill = bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 256)

func (h *hugePacketReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch {
		case h.sent == 0:
			p[n] = '$'
			n++
			h.sent++
		case h.sent <= h.size:
			c := copy(p[n:], hugeFill[:min(int64(len(hugeFill)), h.size-h.sent+1)])
			n += c
			h.sent += int64(c)
		case h.sent-h.size-1 < int64(len(h.tail)):
			p[n] = h.tail[h.sent-h.size-1]
			n++
			h.sent++
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
	}
	return n, nil
}

// TestHugePacketBoundedMemory sends a 16 MiB packet: the reader must
// refuse it without buffering it.
func TestHugePacketBoundedMemory(t *testing.T) {
	const size = 16 << 20
	in := &hugePacketReader{size: size, tail: "#00" + pkt("g")}
	r := NewReader(in, ReaderOptions{MaxPayload: 4096})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := r.ReadFrame()
	runtime.ReadMemStats(&after)
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a checksum error", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
		t.Errorf("reading a %d-byte packet allocated %d bytes", size, grew)
	}
	if cap(r.buf) > 4096 {
		t.Errorf("payload buffer grew to %d, limit 4096", cap(r.buf))
	}
	f, err := r.ReadFrame()
	if err != nil || string(f.Payload) != "g" {
		t.Errorf("next frame = %q, %v; want g", f.Payload, err)
	}
}

// TestTranscripts replays real gdb 13 / gdbserver sessions: every frame
// in each direction reads back with a good checksum, every packet gdb
// sent parses, and formatting the parsed request gives gdb's bytes back.
func TestTranscripts(t *testing.T) {
	for _, tr := range loadTranscripts(t) {
		t.Run(tr.name, func(t *testing.T) {
			for _, dir := range []struct {
				frames []string
				opts   ReaderOptions
			}{
				{tr.toServer, ReaderOptions{MaxPayload: 0x47ff}},
				{tr.toClient, ReaderOptions{MaxPayload: 1 << 20, FromServer: true}},
			} {
				r := NewReader(strings.NewReader(strings.Join(dir.frames, "")), dir.opts)
				for i := range dir.frames {
					if _, err := r.ReadFrame(); err != nil {
						t.Fatalf("frame %d %q: %v", i, dir.frames[i], err)
					}
				}
				if _, err := r.ReadFrame(); err != io.EOF {
					t.Fatalf("after the last frame: %v, want EOF", err)
				}
			}
			known := 0
			for i, payload := range tr.requests {
				req, err := Parse([]byte(payload))
				if err != nil {
					t.Errorf("Parse(%q): %v", payload, err)
					continue
				}
				if _, ok := req.(*Unknown); ok {
					continue
				}
				known++
				// The exact round trip: the bytes gdb sent, escapes
				// included, are the bytes formatting gives.
				got := string(AppendFrame(nil, req.AppendPayload(nil)))
				if want := canonicalFrame(tr.requestFrames[i]); got != want {
					t.Errorf("frame(format(parse(%q))) = %q, want %q", payload, got, want)
				}
			}
			if known == 0 {
				t.Error("no known packet in the transcript")
			}
		})
	}
}

// canonicalFrame returns the frame as rsp formats it. gdb ends signal
// lists with ';', which rsp parses but does not write.
func canonicalFrame(raw string) string {
	if strings.HasPrefix(raw, "$QPassSignals:") || strings.HasPrefix(raw, "$QProgramSignals:") {
		payload := raw[1 : len(raw)-3]
		return pkt(strings.TrimSuffix(payload, ";"))
	}
	return raw
}

func TestStopRepliesInTranscripts(t *testing.T) {
	n := 0
	for _, tr := range loadTranscripts(t) {
		for _, p := range tr.replies {
			if len(p) == 0 || !strings.ContainsRune("TWXSN", rune(p[0])) || strings.HasPrefix(p, "T0;") {
				continue // T0; is a qTStatus reply
			}
			s, err := ParseStopReply([]byte(p))
			if err != nil {
				t.Errorf("ParseStopReply(%q): %v", p, err)
				continue
			}
			n++
			again, err := ParseStopReply(s.AppendPayload(nil))
			if err != nil || !equalStop(s, again) {
				t.Errorf("stop reply %q: format gives %q, parse %+v, %v", p, s.AppendPayload(nil), again, err)
			}
		}
	}
	if n == 0 {
		t.Error("no stop reply in the transcripts")
	}
}

func equalStop(a, b *StopReply) bool {
	return bytes.Equal(a.AppendPayload(nil), b.AppendPayload(nil))
}

func TestFrameSpan(t *testing.T) {
	for _, tc := range []struct {
		in         string
		n, pending int
	}{
		{"", 0, 0},
		{"+", 1, 0},
		{"junk-", 5, 0},
		{"\x03$g#67", 1, 0},
		{"$g#67$m", 5, 0},
		{"$g#6", 0, 4},
		{"$g", 0, 2},
		{"xx$abc$g#67", 11, 0},
		{"$a}#b#00", 6, 0}, // an escaped '#' is written "}\x03": '#' always ends the payload
		{"junk", 0, 0},
		{"$#0$?#3f", 3, 0}, // a '$' for a checksum digit starts the next packet
		{"$g#$?#3f", 3, 0},
		{"$g#6$", 4, 0},
		{"$g#6", 0, 4},
	} {
		n, p := FrameSpan([]byte(tc.in))
		if n != tc.n || p != tc.pending {
			t.Errorf("FrameSpan(%q) = %d, %d; want %d, %d", tc.in, n, p, tc.n, tc.pending)
		}
	}
}
