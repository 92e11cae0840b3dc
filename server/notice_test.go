package server

import (
	"fmt"
	"strings"
	"testing"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/rsp"
)

// TestNoticeWording checks that the notices the code writes are the ones
// documented in noticeForms (and so in the README).
func TestNoticeWording(t *testing.T) {
	s := &Server{proc: &process{dp: newDebugpoints(), syms: symbolTable{{0x404028, 4, "counter"}, {0x404060, 4096, "big"}}}}
	req := hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x404028, Len: 4}
	big := hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x404060, Len: 4096}
	o := owner{id: 1}
	by := arbiter.Taker[owner, hwbp.Request]{Owner: owner{id: 2}, Priority: 20}
	// Client #2 holds a slot, for the "no slot free" wording.
	s.proc.dp.arb.SetOwner(owner{id: 2}, arbiter.OwnerConfig{Priority: 20})
	s.proc.dp.arb.Insert(owner{id: 2}, hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x500000, Len: 8}, hwbp.Piece{Addr: 0x500000, Len: 8, Cond: hwbp.CondWrite})
	s.proc.dp.arb.Commit()
	pinned := owner{id: 3}
	s.proc.dp.arb.SetOwner(pinned, arbiter.OwnerConfig{Pinned: true})
	events := []arbiter.Event[owner, hwbp.Request]{
		{Owner: o, Key: req, Priority: 10, Old: arbiter.Installed, New: arbiter.Emulated, Cause: arbiter.CauseEvicted, By: by},
		{Owner: o, Key: req, Priority: 10, Old: arbiter.Installed, New: arbiter.Suspended, Cause: arbiter.CauseEvicted, By: by},
		{Owner: o, Key: req, Priority: 10, Old: arbiter.Installed, New: arbiter.Emulated, Cause: arbiter.CauseCapacityShrank},
		{Owner: o, Key: req, Priority: 10, Old: arbiter.Emulated, New: arbiter.Installed, Cause: arbiter.CauseSlotFreed},
		{Owner: o, Key: big, Priority: 10, Old: arbiter.Absent, New: arbiter.Emulated, Cause: arbiter.CauseInserted},
		{Owner: o, Key: req, Priority: 10, Old: arbiter.Absent, New: arbiter.Emulated, Cause: arbiter.CauseInserted},
		{Owner: o, Key: req, Priority: 10, Old: arbiter.Absent, New: arbiter.Suspended, Cause: arbiter.CauseInserted},
		{Owner: pinned, Key: req, Priority: 0, Old: arbiter.Absent, New: arbiter.Refused, Cause: arbiter.CauseInserted},
		{Owner: o, Key: req, Priority: 10, Old: arbiter.Suspended, New: arbiter.Emulated, Cause: arbiter.CausePolicyChanged},
	}
	// The last form is not an arbiter event's: TestNoticesBounded.
	if len(events) != len(noticeForms)-1 {
		t.Fatalf("%d events for %d documented forms", len(events), len(noticeForms)-1)
	}
	for i, ev := range events {
		if got := s.noticeText(ev); got != noticeForms[i].example {
			t.Errorf("%s:\n got %q\nwant %q", noticeForms[i].when, got, noticeForms[i].example)
		}
	}
	// The owner's own removal and a point that went straight into
	// hardware need no notice; nor do read watchpoints' pairs.
	for _, ev := range []arbiter.Event[owner, hwbp.Request]{
		{Owner: o, Key: req, Old: arbiter.Installed, New: arbiter.Absent, Cause: arbiter.CauseRemoved},
		{Owner: o, Key: req, Old: arbiter.Absent, New: arbiter.Installed, Cause: arbiter.CauseInserted},
		{Owner: owner{id: 1, pair: true}, Key: req, Old: arbiter.Installed, New: arbiter.Suspended, Cause: arbiter.CauseEvicted, By: by},
	} {
		if got := s.noticeText(ev); got != "" {
			t.Errorf("%v -> %v (%v): unexpected notice %q", ev.Old, ev.New, ev.Cause, got)
		}
	}
}

// TestNoticesBounded: a client that holds the program is kept at most
// maxQueuedNotices notices; at its resume it is told first how many older
// ones were dropped, in the documented wording, then the newest ones.
func TestNoticesBounded(t *testing.T) {
	h := newHarness(t)
	a := h.client()
	for i := range maxQueuedNotices + 3 {
		a.notify(fmt.Sprintf("notice %d", i))
	}
	if len(a.notices) != maxQueuedNotices {
		t.Fatalf("%d notices kept, want %d", len(a.notices), maxQueuedNotices)
	}
	h.send(a, "vCont;c")
	var texts []string
	for _, r := range h.replies(a) {
		if text, ok := rsp.DecodeConsoleOutput([]byte(r)); ok {
			texts = append(texts, strings.TrimSuffix(string(text), "\n"))
		}
	}
	want := append([]string{noticeForms[len(noticeForms)-1].example}, fmt.Sprint("notice ", 3), fmt.Sprint("notice ", maxQueuedNotices+2))
	if len(texts) != maxQueuedNotices+1 || texts[0] != want[0] || texts[1] != want[1] || texts[len(texts)-1] != want[2] {
		t.Errorf("told %d notices, first %q, want %d: %q, %q ... %q", len(texts), texts[:min(2, len(texts))], maxQueuedNotices+1, want[0], want[1], want[2])
	}
}
