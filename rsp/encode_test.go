package rsp

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppendFrame(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{"", "$#00"},
		{"OK", "$OK#9a"},
		{"g", "$g#67"},
		{"vMustReplyEmpty", "$vMustReplyEmpty#3a"},
		{"QStartNoAckMode", "$QStartNoAckMode#b0"},
		{"E01", "$E01#a6"},
		{"W3;process:29db", "$W3;process:29db#2f"},
		{"vCont;c;C;t;s;S;r", "$vCont;c;C;t;s;S;r#be"},
		{"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386",
			"$qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386#77"},
	} {
		if got := string(AppendFrame(nil, []byte(tc.payload))); got != tc.want {
			t.Errorf("AppendFrame(%q) = %q, want %q", tc.payload, got, tc.want)
		}
	}
	if got := string(AppendNotification(nil, []byte("Stop:T05"))); got != "%Stop:T05#"+string(appendHexByte(nil, Checksum([]byte("Stop:T05")))) {
		t.Errorf("AppendNotification = %q", got)
	}
}

// TestAppendFrameRLE checks the encoding against the GDB manual's examples
// and against the counts that must be avoided, then decodes it back.
func TestAppendFrameRLE(t *testing.T) {
	zeros := func(n int) string { return strings.Repeat("0", n) }
	for _, tc := range []struct{ payload, want string }{
		{"", ""},
		{zeros(1), "0"},
		{zeros(3), "000"},
		{zeros(4), "0* "},
		{zeros(5), "0*!"},
		{zeros(6), "0*\""},
		{zeros(7), "0*\"0"},  // 6 more would be '#'
		{zeros(8), "0*\"00"}, // 7 more would be '$'
		{zeros(9), "0*%"},
		{zeros(15), "0**0"}, // 14 more would be '+'
		{zeros(17), "0*,0"}, // 16 more would be '-'
		{zeros(98), "0*~"},
		{zeros(99), "0*~0"},
		{zeros(200), "0*~0*~0* "},
		{"T0506:0000000000000000;", "T0506:0*,;"},
		{"aaaa####", "a* ####"},  // frame characters never start a run
		{"}}}}****", "}}}}****"}, // nor escape and run markers
		{"abcabc", "abcabc"},
	} {
		got := string(AppendFrameRLE(nil, []byte(tc.payload)))
		want := "$" + tc.want + "#" + string(appendHexByte(nil, Checksum([]byte(tc.want))))
		if got != want {
			t.Errorf("AppendFrameRLE(%q) = %q, want %q", tc.payload, got, want)
		}
		if strings.ContainsAny(tc.payload, "#$}*") {
			continue
		}
		f, err := NewReader(strings.NewReader(got), ReaderOptions{FromServer: true}).ReadFrame()
		if err != nil || string(f.Payload) != tc.payload {
			t.Errorf("decoding %q = %q, %v; want %q", got, f.Payload, err, tc.payload)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	data := []byte("a#b$c}d*e\x03+-")
	want := "a}\x03b}\x04c}]d}\ne\x03+-"
	if got := string(AppendEscaped(nil, data)); got != want {
		t.Errorf("AppendEscaped = %q, want %q", got, want)
	}
	if n := EscapedLen(data); n != len(want) {
		t.Errorf("EscapedLen = %d, want %d", n, len(want))
	}
	f, err := NewReader(strings.NewReader(string(AppendFrame(nil, []byte(want)))), ReaderOptions{}).ReadFrame()
	if err != nil || !bytes.Equal(f.Payload, data) {
		t.Errorf("reading back = %q, %v", f.Payload, err)
	}
	for room, want := range map[int]int{0: 0, 1: 1, 2: 1, 3: 2, 100: len(data)} {
		if got := EscapedFit(data, room); got != want {
			t.Errorf("EscapedFit(room %d) = %d, want %d", room, got, want)
		}
	}
}

func TestHex(t *testing.T) {
	if got := string(AppendHex(nil, []byte{0, 0x7f, 0xab, 0xff})); got != "007fabff" {
		t.Errorf("AppendHex = %q", got)
	}
	if got := string(AppendHexString(nil, "help")); got != "68656c70" {
		t.Errorf("AppendHexString = %q", got)
	}
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "", true},
		{"007FabfF", "\x00\x7f\xab\xff", true},
		{"0", "", false},
		{"0g", "", false},
		{"g0", "", false},
		{" 0", "", false},
	} {
		got, err := DecodeHex([]byte("x"), []byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && string(got) != "x"+tc.want) || (!tc.ok && string(got) != "x") {
			t.Errorf("DecodeHex(%q) = %q, %v", tc.in, got, err)
		}
	}
	for v, want := range map[uint64]string{0: "0", 1: "1", 0xa410: "a410", 1<<64 - 1: "ffffffffffffffff"} {
		if got := string(AppendUint(nil, v)); got != want {
			t.Errorf("AppendUint(%#x) = %q", v, got)
		}
	}
}

func TestEncodersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 4096)
	payload := []byte(strings.Repeat("0", 500) + "ab#$")
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendFrame(buf[:0], payload)
		b = AppendFrameRLE(b, payload)
		b = AppendEscaped(b, payload)
		b = AppendHex(b, payload[:100])
		b = AppendUint(b, 0xdeadbeef)
		_ = b
	})
	if allocs != 0 {
		t.Errorf("encoders allocate %v times, want 0", allocs)
	}
}

// TestChecksumWords: the word-at-a-time sum is the byte sum, for every
// length around its block sizes and for the bytes that fill its lanes
// fastest (0xff).
func TestChecksumWords(t *testing.T) {
	for _, fill := range []func(i int) byte{
		func(int) byte { return 0xff },
		func(i int) byte { return byte(i*131 + i>>3) },
	} {
		data := make([]byte, 8*128*3+17)
		for i := range data {
			data[i] = fill(i)
		}
		for n := 0; n <= len(data); n++ {
			var want uint8
			for _, b := range data[:n] {
				want += b
			}
			if got := Checksum(data[:n]); got != want {
				t.Fatalf("Checksum of %d bytes (first %#x) = %#x, want %#x", n, data[0], got, want)
			}
		}
	}
}
