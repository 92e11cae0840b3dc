package debugpoints

import (
	"iter"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
)

// Point is one of a client's debugpoints as of the last commit, for
// `monitor slots` and `monitor clients`.
type Point struct {
	Request  hwbp.Request
	State    arbiter.State
	Priority int
	Hits     uint64
	// Slots lists the slots its pieces hold.
	Slots []int
	// ValueCheck says a read watchpoint is in hardware without its write
	// pair: a store of a new value is told from a read by comparing
	// values, and a store of the same value looks like a read.
	ValueCheck bool
}

// Points yields a client's debugpoints in install order.
func (d *Set) Points(client int) iter.Seq[Point] {
	return func(yield func(Point) bool) {
		for info := range d.arb.Debugpoints(Owner{Client: client}) {
			p := Point{
				Request: info.Key, State: info.State, Priority: info.Priority, Hits: info.Hits,
				Slots: d.slotsOf(info.Owner, info.Key),
			}
			p.ValueCheck = info.Key.Kind == hwbp.KindRead && info.State == arbiter.Installed && !d.pairInstalled(client, info.Key)
			if !yield(p) {
				return
			}
		}
	}
}

// Capacity returns how many slots the arbiter plans with (fewer than
// total after the kernel refused some) and how many there are.
func (d *Set) Capacity() (usable, total int) {
	return d.arb.Capacity(), d.arb.NumSlots()
}

// Knows says whether the set keeps anything of a client: an owner, a
// removal not applied, the engine's number of an emulated watchpoint. A
// client that left (Leave) is forgotten.
func (d *Set) Knows(client int) bool {
	for _, o := range []Owner{{Client: client}, {Client: client, Pair: true}} {
		if _, ok := d.arb.Owner(o); ok || len(d.pending[o]) > 0 {
			return true
		}
	}
	for k := range d.watchIDs {
		if k.owner.Client == client {
			return true
		}
	}
	_, ok := d.tallies[client]
	return ok
}
