package server

import (
	"fmt"
	"strings"
	"testing"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
)

// TestNoticeWording checks that the notices the code writes are the ones
// documented in noticeForms (and so in the README). The facts a notice
// names (who holds the slots, too long, pinned) come with the change;
// debugpoints' tests check that they are right.
func TestNoticeWording(t *testing.T) {
	p := &process{syms: symbolTable{{0x404028, 4, "counter"}, {0x404060, 4096, "big"}}}
	req := hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x404028, Len: 4}
	big := hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x404060, Len: 4096}
	o := debugpoints.Owner{Client: 1}
	by := arbiter.Taker[debugpoints.Owner, hwbp.Request]{Owner: debugpoints.Owner{Client: 2}, Priority: 20}
	// Client #2 holds a slot, for the "no slot free" wording.
	held := []debugpoints.Holder{{Client: 2, Priority: 20}}
	pinned := debugpoints.Owner{Client: 3}
	type ev = debugpoints.Event
	changes := []debugpoints.Change{
		{Event: ev{Owner: o, Key: req, Priority: 10, Old: arbiter.Installed, New: arbiter.Emulated, Cause: arbiter.CauseEvicted, By: by}},
		{Event: ev{Owner: o, Key: req, Priority: 10, Old: arbiter.Installed, New: arbiter.Suspended, Cause: arbiter.CauseEvicted, By: by}},
		{Event: ev{Owner: o, Key: req, Priority: 10, Old: arbiter.Installed, New: arbiter.Emulated, Cause: arbiter.CauseCapacityShrank}},
		{Event: ev{Owner: o, Key: req, Priority: 10, Old: arbiter.Emulated, New: arbiter.Installed, Cause: arbiter.CauseSlotFreed}, Slots: []int{0}},
		{Event: ev{Owner: o, Key: big, Priority: 10, Old: arbiter.Absent, New: arbiter.Emulated, Cause: arbiter.CauseInserted}, TooLong: true, Holders: held},
		{Event: ev{Owner: o, Key: req, Priority: 10, Old: arbiter.Absent, New: arbiter.Emulated, Cause: arbiter.CauseInserted}, Holders: held},
		{Event: ev{Owner: o, Key: req, Priority: 10, Old: arbiter.Absent, New: arbiter.Suspended, Cause: arbiter.CauseInserted}, Holders: held},
		{Event: ev{Owner: pinned, Key: req, Priority: 0, Old: arbiter.Absent, New: arbiter.Refused, Cause: arbiter.CauseInserted}, Pinned: true},
		{Event: ev{Owner: o, Key: req, Priority: 10, Old: arbiter.Suspended, New: arbiter.Emulated, Cause: arbiter.CausePolicyChanged}},
	}
	// The last form is not a debugpoint's change: TestNoticesBounded.
	if len(changes) != len(noticeForms)-1 {
		t.Fatalf("%d changes for %d documented forms", len(changes), len(noticeForms)-1)
	}
	for i, ch := range changes {
		if got := noticeText(ch, p.pointName(ch.Key)); got != noticeForms[i].example {
			t.Errorf("%s:\n got %q\nwant %q", noticeForms[i].when, got, noticeForms[i].example)
		}
	}
	// The owner's own removal and a point that went straight into
	// hardware need no notice; nor do read watchpoints' pairs, nor a
	// refusal of a point that is not pinned (its Z gets E01).
	for _, ch := range []debugpoints.Change{
		{Event: ev{Owner: o, Key: req, Old: arbiter.Installed, New: arbiter.Absent, Cause: arbiter.CauseRemoved}},
		{Event: ev{Owner: o, Key: req, Old: arbiter.Absent, New: arbiter.Installed, Cause: arbiter.CauseInserted}, Slots: []int{1}},
		{Event: ev{Owner: debugpoints.Owner{Client: 1, Pair: true}, Key: req, Old: arbiter.Installed, New: arbiter.Suspended, Cause: arbiter.CauseEvicted, By: by}},
		{Event: ev{Owner: o, Key: req, Old: arbiter.Absent, New: arbiter.Refused, Cause: arbiter.CauseInserted}},
	} {
		if got := noticeText(ch, p.pointName(ch.Key)); got != "" {
			t.Errorf("%v -> %v (%v): unexpected notice %q", ch.Old, ch.New, ch.Cause, got)
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
