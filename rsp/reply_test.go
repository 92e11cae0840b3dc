package rsp

import (
	"strings"
	"testing"
)

func TestReplies(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"ok", AppendOK(nil), "OK"},
		{"error", AppendError(nil, CodeInvalid), "E16"},
		{"gdbserver's watchpoint error", AppendError(nil, CodeNotPermitted), "E01"},
		{"too large", AppendError(nil, CodeTooLarge), "E5a"},
		{"error message", AppendErrorMessage(nil, "refused: an observer may not (X)"), "E.refused: an observer may not (X)"},
		{"error message, framing bytes", AppendErrorMessage(nil, "a$b#c}d*e\n\x80"), "E.a?b?c?d?e??"},
		{"unavailable register", AppendUnavailable(AppendHex(nil, []byte{1}), 2), "01xxxx"},
		{"xfer more", AppendXferReply(nil, []byte("<a>#"), false), "m<a>}\x03"},
		{"xfer last", AppendXferReply(nil, []byte("</a>"), true), "l</a>"},
		{"xfer empty", AppendXferReply(nil, nil, true), "l"},
		{"file fd", AppendFileResult(nil, 6), "F6"},
		{"file zero", AppendFileResult(nil, 0), "F0"},
		{"file error", AppendFileError(nil, 2), "F-1,2"},
		{"file data", AppendFileData(nil, []byte("\x7fELF*")), "F5;\x7fELF}\n"},
		{"file empty data", AppendFileData(nil, nil), "F0;"},
		{"supported", AppendSupported(nil, []Feature{
			PacketSizeFeature(DefaultMaxPayload),
			{Name: "qXfer:features:read", State: FeatureSupported},
			{Name: "QNonStop", State: FeatureUnsupported},
		}), "PacketSize=4000;qXfer:features:read+;QNonStop-"},
		{"thread list", AppendThreadList(nil, []ThreadID{ProcessThread(0x2987, 0x2987), ProcessThread(0x2987, 0x2990)}), "mp2987.2987,p2987.2990"},
		{"thread list end", AppendThreadList(nil, nil), "l"},
		{"current thread", AppendCurrentThread(nil, SingleThread(0x1a)), "QC1a"},
		{"vCont?", AppendResumeActions(nil, ResumeContinue, ResumeStop, ResumeStep, ResumeRangeStep), "vCont;c;C;t;s;S;r"},
		{"attached", AppendAttached(nil, true), "1"},
		{"started", AppendAttached(nil, false), "0"},
		{"symbol lookup", AppendSymbolLookup(nil, "__nptl_version"), "qSymbol:5f5f6e70746c5f76657273696f6e"},
		{"console output", AppendConsoleOutput(nil, "hi\n"), "O68690a"},
		{"lldb pairs", AppendPairs(nil, Pair{"start", "7ffff7fc8000"}, Pair{"size", "2000"}, Pair{"permissions", "rx"}), "start:7ffff7fc8000;size:2000;permissions:rx;"},
		{"lldb pairs, escaped", AppendPairs(nil, Pair{"name", "a#b"}), "name:a}\x03b;"},
		{"lldb pairs, none", AppendPairs(nil), ""},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestXferPiece(t *testing.T) {
	obj := []byte("0123456789")
	for _, tc := range []struct {
		off    uint64
		length int
		want   string
		last   bool
	}{
		{0, 4, "0123", false},
		{4, 6, "456789", true},
		{4, 100, "456789", true},
		{10, 4, "", true},
		{1 << 63, 4, "", true},
	} {
		got, last := XferPiece(obj, tc.off, tc.length)
		if string(got) != tc.want || last != tc.last {
			t.Errorf("XferPiece(%d, %d) = %q, %v", tc.off, tc.length, got, last)
		}
	}
}

func TestDecodeReplies(t *testing.T) {
	if text, ok := DecodeConsoleOutput([]byte("O68690a")); !ok || string(text) != "hi\n" {
		t.Errorf("DecodeConsoleOutput = %q, %v", text, ok)
	}
	for _, p := range []string{"OK", "O", "O6", "Ozz", "E01"} {
		if _, ok := DecodeConsoleOutput([]byte(p)); ok {
			t.Errorf("DecodeConsoleOutput(%q) ok", p)
		}
	}
	if c, ok := ParseErrorReply([]byte("E5a")); !ok || c != CodeTooLarge {
		t.Errorf("ParseErrorReply(E5a) = %v, %v", c, ok)
	}
	for _, p := range []string{"OK", "E", "E1", "E.Btrace not enabled.", "Ezz"} {
		if _, ok := ParseErrorReply([]byte(p)); ok {
			t.Errorf("ParseErrorReply(%q) ok", p)
		}
	}
	if m, ok := ParseErrorMessage([]byte("E.Btrace not enabled.")); !ok || m != "Btrace not enabled." {
		t.Errorf("ParseErrorMessage = %q, %v", m, ok)
	}
	for _, p := range []string{"OK", "E", "E0d", "e.x"} {
		if _, ok := ParseErrorMessage([]byte(p)); ok {
			t.Errorf("ParseErrorMessage(%q) ok", p)
		}
	}
}

func TestErrorCodeTable(t *testing.T) {
	// The codes the brief and the README promise, errno-numbered.
	want := map[string]ErrorCode{
		"EPERM": 0x01, "ENOENT": 0x02, "ESRCH": 0x03, "EIO": 0x05, "EBADF": 0x09,
		"EFAULT": 0x0e, "EBUSY": 0x10, "EINVAL": 0x16, "ENOSPC": 0x1c, "ENOSYS": 0x26,
		"EMSGSIZE": 0x5a,
	}
	table := ErrorCodeTable()
	seen := map[ErrorCode]bool{}
	for i, e := range table {
		if seen[e.Code] {
			t.Errorf("code %02x twice", e.Code)
		}
		seen[e.Code] = true
		if i > 0 && table[i-1].Code >= e.Code {
			t.Errorf("table not in numeric order at %02x", e.Code)
		}
		if e.Code.String() != e.Name || e.Code.Description() != e.Description {
			t.Errorf("code %02x: String/Description disagree with the table", e.Code)
		}
		if e.Description == "" || strings.ToLower(e.Description[:1]) != e.Description[:1] || strings.HasSuffix(e.Description, ".") {
			t.Errorf("code %02x: description %q: want one lower-case line without a period", e.Code, e.Description)
		}
		if c, ok := want[e.Name]; ok && c != e.Code {
			t.Errorf("%s is %02x, want %02x", e.Name, e.Code, c)
		}
		delete(want, e.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing codes: %v", want)
	}
	table[0].Name = "changed"
	if ErrorCodeTable()[0].Name == "changed" {
		t.Error("ErrorCodeTable returns the table itself, not a copy")
	}
	if s := ErrorCode(0x77).String(); s != "E77" {
		t.Errorf("unknown code String = %q", s)
	}
	var pe error = &ParseError{Packet: "m", Code: CodeInvalid, Reason: "bad"}
	if pe.Error() != "rsp: malformed m packet: bad" {
		t.Errorf("ParseError = %q", pe.Error())
	}
}
