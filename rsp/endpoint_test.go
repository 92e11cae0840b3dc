package rsp

import (
	"fmt"
	"strings"
	"testing"
)

// feed gives the endpoint input, as much as it takes, and returns what
// it did not take.
func feed(e *Endpoint, in []byte) []byte {
	for len(in) > 0 {
		space := e.Space()
		if len(space) == 0 {
			return in
		}
		n := copy(space, in)
		e.Filled(n)
		in = in[n:]
	}
	return nil
}

// drain takes every frame out, as "kind:payload" or "err:type", feeding
// the rest of in as room frees.
func drain(e *Endpoint, in []byte) []string {
	var got []string
	for {
		in = feed(e, in)
		f, err, ok := e.Next()
		if !ok {
			if len(in) == 0 {
				return got
			}
			continue
		}
		switch {
		case err != nil:
			got = append(got, fmt.Sprintf("err:%T", err))
		default:
			got = append(got, fmt.Sprintf("%v:%s", f.Kind, f.Payload))
		}
	}
}

func TestEndpointInput(t *testing.T) {
	big := strings.Repeat("a", 40)
	for _, tc := range []struct {
		name   string
		noAck  bool
		in     string
		frames []string
		out    string // what the endpoint answered
	}{
		{"packet", false, pkt("qC"), []string{"packet:qC"}, "+"},
		{"junk dropped", false, "junk\r\n" + pkt("g"), []string{"packet:g"}, "+"},
		{"two packets", false, pkt("g") + pkt("?"), []string{"packet:g", "packet:?"}, "++"},
		{"interrupt", false, "\x03" + pkt("?"), []string{"interrupt:", "packet:?"}, "+"},
		{"bad checksum", false, "$qC#00" + pkt("qC"), []string{"err:*rsp.ChecksumError", "packet:qC"}, "-+"},
		{"no-ack: nothing answered", true, "$qC#00" + pkt("qC") + "+-", []string{"err:*rsp.ChecksumError", "packet:qC"}, ""},
		{"oversize, then the next", false, pkt("M0,20:"+big) + pkt("g"), []string{"err:*rsp.OversizeError", "packet:g"}, "++"},
		{"dangling escape", false, pkt("X0,1:a}"), []string{"err:*rsp.EscapeError"}, "+"},
		{"escapes undone", false, pkt("X0,1:}\x03"), []string{"packet:X0,1:#"}, "+"},
		{"'$' cuts a checksum short", false, "$g#6" + pkt("?"), []string{"err:*rsp.ChecksumError", "packet:?"}, "-+"},
		{"packet unfinished", false, "$m0,4#", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 3, 1 << 20} {
				e := NewEndpoint(EndpointOptions{MaxPayload: 16})
				if tc.noAck {
					e.SetNoAck()
				}
				var got []string
				in := []byte(tc.in)
				for len(in) > 0 {
					n := min(chunk, len(in))
					got = append(got, drain(e, in[:n])...)
					in = in[n:]
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.frames) {
					t.Errorf("in chunks of %d: frames %q, want %q", chunk, got, tc.frames)
				}
				if out := string(e.Output()); out != tc.out {
					t.Errorf("in chunks of %d: answered %q, want %q", chunk, out, tc.out)
				}
			}
		})
	}
}

func TestEndpointResend(t *testing.T) {
	e := NewEndpoint(EndpointOptions{})
	e.Send([]byte("OK"))
	e.Wrote(len(e.Output()))
	if got := drain(e, []byte("-")); len(got) != 0 {
		t.Fatalf("frames %q from a nak", got)
	}
	if out := string(e.Output()); out != "$OK#9a" {
		t.Fatalf("after '-': %q, want the packet again", out)
	}
	e.Wrote(len(e.Output()))
	drain(e, []byte("+-"))
	if out := string(e.Output()); out != "" {
		t.Fatalf("after '+' then '-': %q, want nothing (acknowledged)", out)
	}
	// In no-ack mode a packet is not kept, a nak not answered.
	e.SetNoAck()
	e.Send([]byte("E01"))
	e.Wrote(len(e.Output()))
	drain(e, []byte("-"))
	if out := string(e.Output()); out != "" {
		t.Fatalf("no-ack '-': %q, want nothing", out)
	}
}

// TestEndpointOutputOrder: acknowledgments and packets go out in the
// order they were made, however the owner writes them.
func TestEndpointOutputOrder(t *testing.T) {
	e := NewEndpoint(EndpointOptions{})
	drain(e, []byte(pkt("g")))
	e.Send([]byte(strings.Repeat("0", 100)))
	drain(e, []byte(pkt("?")))
	e.Send([]byte("S05"))
	want := "+" + pkt(strings.Repeat("0", 100)) + "+" + pkt("S05")
	var wrote []byte
	for len(e.Output()) > 0 {
		n := min(7, len(e.Output()))
		wrote = append(wrote, e.Output()[:n]...)
		e.Wrote(n)
		if len(wrote) == 50 {
			e.Send([]byte("O")) // a send between partial writes
			want += pkt("O")
		}
	}
	if string(wrote) != want {
		t.Fatalf("wrote %q, want %q", wrote, want)
	}
}

// TestEndpointBounded: whatever the peer sends, the input holds at most
// one frame's worth; junk costs nothing, an oversized packet neither.
func TestEndpointBounded(t *testing.T) {
	e := NewEndpoint(EndpointOptions{MaxPayload: 64})
	max := MaxFrameLen(64)
	junk := []byte(strings.Repeat("x", 10000))
	long := []byte("$" + strings.Repeat("y", 10000) + "#00")
	for _, in := range [][]byte{junk, long, junk} {
		got := drain(e, in)
		if cap(e.in) > max {
			t.Fatalf("input capacity %d, limit %d", cap(e.in), max)
		}
		if len(got) > 1 || len(got) == 1 && got[0] != "err:*rsp.OversizeError" {
			t.Fatalf("frames %q", got)
		}
	}
	if got := drain(e, []byte(pkt("g"))); len(got) != 1 || got[0] != "packet:g" {
		t.Fatalf("after: %q", got)
	}
}

// FuzzEndpoint: the same bytes in any chunks give the same frames and the
// same answers, and the input stays within its bound.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{pkt("qC"), "$qC#00+-\x03", pkt("X0,2:a}") + "$g#6$?#3f", strings.Repeat("z", 300) + pkt("m0,4")} {
		f.Add([]byte(s), uint8(1), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, noAck bool) {
		run := func(size int) ([]string, string) {
			e := NewEndpoint(EndpointOptions{MaxPayload: 32})
			if noAck {
				e.SetNoAck()
			}
			var got []string
			for rest := in; len(rest) > 0; {
				n := min(size, len(rest))
				got = append(got, drain(e, rest[:n])...)
				rest = rest[n:]
				if cap(e.in) > MaxFrameLen(32) {
					t.Fatalf("input capacity %d", cap(e.in))
				}
			}
			return got, string(e.Output())
		}
		whole, outWhole := run(len(in) + 1)
		parts, outParts := run(int(chunk) + 1)
		if fmt.Sprint(whole) != fmt.Sprint(parts) || outWhole != outParts {
			t.Fatalf("whole: %q %q; in chunks of %d: %q %q", whole, outWhole, int(chunk)+1, parts, outParts)
		}
	})
}
