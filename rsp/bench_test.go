package rsp

import (
	"strings"
	"testing"
)

// Benchmarks of the hot paths. Run: go test -run '^$' -bench . -benchmem ./rsp/

func benchReadFrame(b *testing.B, payload string) {
	wire := pkt(payload)
	r := NewReader(&repeatReader{data: []byte(wire)}, ReaderOptions{})
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadFrame(b *testing.B) {
	b.Run("vCont", func(b *testing.B) { benchReadFrame(b, "vCont;c:p2987.-1") })
	b.Run("m", func(b *testing.B) { benchReadFrame(b, "m7fffffffe780,40") })
	b.Run("X-4KiB", func(b *testing.B) {
		benchReadFrame(b, "X401000,1000:"+string(AppendEscaped(nil, []byte(strings.Repeat("a}#$*b", 683)[:4096]))))
	})
	b.Run("G-1KiB", func(b *testing.B) { benchReadFrame(b, "G"+strings.Repeat("0f", 1024)) })
}

func BenchmarkAppendFrame(b *testing.B) {
	payload := []byte(strings.Repeat("0123456789abcdef", 64))
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFrame(buf[:0], payload)
	}
}

func BenchmarkAppendFrameRLE(b *testing.B) {
	// A g reply: mostly zeros.
	payload := []byte(strings.Repeat("0000000000000000", 40) + "704bfef7ff7f0000" + strings.Repeat("00", 200))
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFrameRLE(buf[:0], payload)
	}
}

func BenchmarkAppendEscaped(b *testing.B) {
	data := []byte(strings.Repeat("\x7fELF}#$*\x00\x01\x02\x03\x04\x05\x06\x07", 256))
	buf := make([]byte, 0, 2*len(data))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEscaped(buf[:0], data)
	}
}

func BenchmarkAppendHex(b *testing.B) {
	data := make([]byte, 4096)
	buf := make([]byte, 0, 2*len(data))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHex(buf[:0], data)
	}
}

func BenchmarkDecodeHex(b *testing.B) {
	src := AppendHex(nil, make([]byte, 4096))
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = DecodeHex(buf[:0], src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChecksum(b *testing.B) {
	data := []byte(strings.Repeat("0123456789abcdef", 256))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Checksum(data)
	}
}

// BenchmarkParse reports the allocations per hot packet: the request
// itself, its variable parts carved from the Parser's shared block.
func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct{ name, payload string }{
		{"vCont", "vCont;s:pa410.a410;c"},
		{"c", "c"},
		{"s", "s"},
		{"m", "m7fffffffe780,40"},
		{"M-16", "M55555555802c,10:" + strings.Repeat("7d", 16)},
		{"X-16", "X55555555802c,10:" + strings.Repeat("}", 16)},
		{"X-4KiB", "X401000,1000:" + strings.Repeat("x", 4096)},
		{"Z", "Z2,55555555802c,4"},
		{"z", "z0,555555555186,1"},
		{"g", "g"},
		{"p", "p10"},
		{"qXfer-features", "qXfer:features:read:target.xml:0,fff"},
		{"qXfer-threads", "qXfer:threads:read::0,fff"},
		{"qRcmd", "qRcmd,736c6f7473"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var p Parser
			payload := []byte(tc.payload)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStopReply builds a watchpoint stop reply with three expedited
// registers and frames it, into reused buffers: 0 allocs/op.
func BenchmarkStopReply(b *testing.B) {
	stop := StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonWatch, Addr: 0x55555555802c,
		Registers: []ExpeditedRegister{regRBP, regRSP, regRIP},
		Thread:    ProcessThread(0x29db, 0x29ee), HasThread: true, Core: 1, HasCore: true}
	payload := make([]byte, 0, 512)
	frame := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		payload = stop.AppendPayload(payload[:0])
		frame = AppendFrameRLE(frame[:0], payload)
	}
}
