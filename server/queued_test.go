package server

import (
	"strings"
	"testing"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// TestPacketsAfterFailedResume: packets a client sends after a resume
// (they wait while it runs) are served when the resume fails and it holds
// the program again, in order (FuzzServer found them left waiting for
// ever).
func TestPacketsAfterFailedResume(t *testing.T) {
	h := newHarness(t)
	a := h.client()
	h.send(a, "vCont;c")
	for _, p := range []string{"vCont;c:0", "?"} { // thread 0: no thread to resume (E03, threadexit.go)
		req, err := rsp.Parse([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		a.handle(req) // while it runs: kept
	}
	h.event(stopped(target.ThreadStop{Tid: 100, Reason: target.StopSignal, Signal: 10}))
	got := h.replies(a)
	if len(got) != 3 || !strings.HasPrefix(got[0], "T1e") || got[1] != "E03" || !strings.HasPrefix(got[2], "T1e") {
		t.Errorf("replies %q, want the stop, E03 for the resume of no live thread, the stop again for ?", got)
	}
}
