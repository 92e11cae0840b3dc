package server

import (
	"testing"

	"gdbserverx/hwbp"
)

// TestDropOwnerForgetsEmulated: the engine's numbers of a client's
// emulated debugpoints go when the client goes (they were kept for ever,
// one entry per debugpoint of every client that ever emulated one).
func TestDropOwnerForgetsEmulated(t *testing.T) {
	d := newDebugpoints()
	req := hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x404028, Len: 8}
	for id, o := range []owner{{id: 1}, {id: 1, pair: true}, {id: 2}} {
		k := watchKey{o, req}
		d.watchIDs[k] = uint64(id + 1)
		d.watchKeys[uint64(id+1)] = k
	}
	d.dropOwner(1)
	if len(d.watchIDs) != 1 || len(d.watchKeys) != 1 || d.watchKeys[3].owner.id != 2 {
		t.Errorf("after client 1 left: %v, %v; want client 2's only", d.watchIDs, d.watchKeys)
	}
}
