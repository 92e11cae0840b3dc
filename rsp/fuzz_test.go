package rsp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// gdbOpening is a typical gdb 13 session opening, payloads as gdb sends
// them; the transcripts in testdata add whole sessions.
var gdbOpening = []string{
	"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386",
	"vMustReplyEmpty", "QStartNoAckMode", "Hgp0.0", "qXfer:features:read:target.xml:0,ffb",
	"qTStatus", "?", "qXfer:threads:read::0,ffb", "qAttached:a410", "Hcp0.0", "qOffsets", "g",
	"qXfer:auxv:read::0,ffb", "qXfer:exec-file:read:a410:0,ffb", "vFile:setfs:0",
	"vFile:open:6a7573742070726f62696e67,0,1c0", "vFile:pread:5,3fff,0", "vFile:close:5",
	"qXfer:libraries-svr4:read::0,ffb", "m401126,1", "Z0,401126,1", "vCont;c:p-1.-1",
	"vCont;s:pa410.a410;c", "QPassSignals:e;10;14;17;1a;1b;1c;21;24;25;2c;4c;97;",
	"Z2,404028,4", "qRcmd,68656c70", "vKill;a410", "D;a410",
}

func addRequestSeeds(f *testing.F) {
	for _, p := range gdbOpening {
		f.Add([]byte(p))
	}
	for _, tr := range loadTranscripts(f) {
		for _, p := range tr.requests {
			f.Add([]byte(p))
		}
	}
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
}

// FuzzReadFrame: the framer never panics, never returns a payload over
// its limit, never grows its buffer past it, and what it reads as a
// packet reads back the same once re-framed.
func FuzzReadFrame(f *testing.F) {
	// Transcript streams in slices of 40 frames: whole sessions make
	// every execution slow.
	for _, tr := range loadTranscripts(f) {
		for _, dir := range []struct {
			frames     []string
			fromServer bool
		}{{tr.toServer, false}, {tr.toClient, true}} {
			for i := 0; i < len(dir.frames); i += 40 {
				f.Add([]byte(strings.Join(dir.frames[i:min(i+40, len(dir.frames))], "")), dir.fromServer)
			}
		}
	}
	f.Add([]byte("$g#00$g#67+-\x03junk$abc$X0,1:}]#zz%Stop:T05#00$0*\"#00"), true)
	f.Fuzz(func(t *testing.T, in []byte, fromServer bool) {
		const max = 64
		r := NewReader(bytes.NewReader(in), ReaderOptions{MaxPayload: max, FromServer: fromServer})
		for range len(in) + 1 {
			fr, err := r.ReadFrame()
			if len(fr.Payload) > max || cap(r.buf) > max {
				t.Fatalf("payload %d, buffer %d, over the limit %d", len(fr.Payload), cap(r.buf), max)
			}
			var ce *ChecksumError
			var oe *OversizeError
			var ee *EscapeError
			switch {
			case errors.As(err, &ce), errors.As(err, &oe), errors.As(err, &ee):
				continue
			case err != nil:
				return
			}
			if fr.Kind != FramePacket || fromServer {
				continue
			}
			again, err := NewReader(bytes.NewReader(AppendFrame(nil, AppendEscaped(nil, fr.Payload))), ReaderOptions{MaxPayload: max}).ReadFrame()
			if err != nil || !bytes.Equal(again.Payload, fr.Payload) {
				t.Fatalf("payload %q re-framed reads %q, %v", fr.Payload, again.Payload, err)
			}
		}
	})
}

// FuzzParse: the parser never panics, fails only with a CodeInvalid
// ParseError, and parse→format→parse agrees.
func FuzzParse(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		req, err := Parse(payload)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Code != CodeInvalid || req != nil {
				t.Fatalf("Parse(%q) = %v, %v", payload, req, err)
			}
			return
		}
		_ = req.PacketName()
		again, err := throughWire(req)
		if err != nil {
			t.Fatalf("Parse(%q) formats as %q, which fails: %v", payload, req.AppendPayload(nil), err)
		}
		if !sameRequest(again, req) {
			t.Fatalf("Parse(%q) = %#v, but through the wire %#v", payload, normalized(req), normalized(again))
		}
		if a, b := req.AppendPayload(nil), again.AppendPayload(nil); !bytes.Equal(a, b) {
			t.Fatalf("format is not stable: %q then %q", a, b)
		}
	})
}

// FuzzRunLength: run-length encoded text decodes to itself.
func FuzzRunLength(f *testing.F) {
	f.Add([]byte(strings.Repeat("0", 300)))
	f.Add([]byte("T0506:0000000000000000;07:f0e7ffffff7f0000;"))
	for _, tr := range loadTranscripts(f) {
		for _, p := range tr.replies {
			f.Add([]byte(p))
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if bytes.ContainsAny(payload, "#$}*") {
			return // not text: AppendFrameRLE is for hex and text replies
		}
		wire := AppendFrameRLE(nil, payload)
		fr, err := NewReader(bytes.NewReader(wire), ReaderOptions{MaxPayload: len(payload) + 1, FromServer: true}).ReadFrame()
		if err != nil || !bytes.Equal(fr.Payload, payload) {
			t.Fatalf("%q encodes as %q, which decodes as %q, %v", payload, wire, fr.Payload, err)
		}
	})
}

// FuzzEscape: binary data survives escaping, framing and reading.
func FuzzEscape(f *testing.F) {
	f.Add([]byte("#$}*\x03+-%"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wire := AppendFrame(nil, AppendEscaped(nil, data))
		for _, fromServer := range []bool{false, true} {
			fr, err := NewReader(bytes.NewReader(wire), ReaderOptions{MaxPayload: len(data) + 1, FromServer: fromServer}).ReadFrame()
			if err != nil || !bytes.Equal(fr.Payload, data) {
				t.Fatalf("%q reads back as %q, %v", data, fr.Payload, err)
			}
		}
	})
}

// FuzzParseStopReply: the client-side stop reply parser never panics, and
// what it accepts formats and parses back the same.
func FuzzParseStopReply(f *testing.F) {
	for _, tc := range stopCases {
		f.Add([]byte(tc.want))
	}
	for _, tr := range loadTranscripts(f) {
		for _, p := range tr.replies {
			f.Add([]byte(p))
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := ParseStopReply(payload)
		if err != nil {
			return
		}
		wire := s.AppendPayload(nil)
		again, err := ParseStopReply(wire)
		if err != nil || !bytes.Equal(again.AppendPayload(nil), wire) {
			t.Fatalf("%q formats as %q, which parses as %+v, %v", payload, wire, again, err)
		}
	})
}

// FuzzFrameSpan: FrameSpan (which searches with bytes.IndexByte) agrees
// with a plain byte-by-byte scan of the same rules, and a whole frame it
// finds is one frame to ReadFrame too, which reads exactly its bytes.
func FuzzFrameSpan(f *testing.F) {
	for _, s := range []string{"$g#67", "xx$a$b#00+", "+-\x03", "$abc#1", "junk$X}#}$#00$g#67", "$$#00", "$#0$?#3f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, pending := FrameSpan(in)
		wn, wpending := frameSpanByByte(in)
		if n != wn || pending != wpending {
			t.Fatalf("FrameSpan(%q) = %d, %d; the byte scan says %d, %d", in, n, pending, wn, wpending)
		}
		if n == 0 {
			return
		}
		src := bytes.NewReader(in[:min(n+1, len(in))])
		r := NewReader(src, ReaderOptions{MaxPayload: len(in)})
		if _, err := r.ReadFrame(); err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("FrameSpan(%q) = %d, but ReadFrame found no whole frame in it: %v", in, n, err)
		}
		if read := min(n+1, len(in)) - src.Len() - r.br.Buffered(); read != n {
			t.Fatalf("FrameSpan(%q) = %d, but ReadFrame read %d bytes", in, n, read)
		}
	})
}

// frameSpanByByte is FrameSpan's rules written as the plainest loop.
func frameSpanByByte(buf []byte) (n, pending int) {
	start := -1
	for i, c := range buf {
		switch {
		case start < 0 && (c == '+' || c == '-' || c == 0x03):
			return i + 1, 0
		case c == '$':
			start = i
		case c == '#' && start >= 0:
			switch {
			case i+1 < len(buf) && buf[i+1] == '$':
				return i + 1, 0
			case i+2 < len(buf) && buf[i+2] == '$':
				return i + 2, 0
			case i+2 < len(buf):
				return i + 3, 0
			}
			return 0, len(buf) - start
		}
	}
	if start < 0 {
		return 0, 0
	}
	return 0, len(buf) - start
}
