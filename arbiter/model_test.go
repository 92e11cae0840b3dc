package arbiter

import (
	"cmp"
	"fmt"
	"slices"
)

// refArb is the reference model: the rules of doc.go, recomputed from
// scratch at every commit by sorting every debugpoint and admitting them
// greedily. It is slow and obviously right; the property tests check that
// Arbiter gives the same assignment, states and events.
type refArb struct {
	numSlots           int
	usable, nextUsable SlotSet
	owners             map[int]*refOwner
	points             map[refID]*refPoint // as of the last commit
	slots              []int               // piece per slot, -1 vacant
	changed            SlotSet
	seq                uint64

	// The open transaction: the desired value of each identity touched.
	// Absent from the map: as committed.
	desired map[refID]refDesire
}

type refID struct{ o, k int }

type refPoint struct {
	id     refID
	pieces []int // distinct, in the caller's order
	seq    uint64
	state  State
	hits   uint64
	fresh  bool
}

// refDesire: absent, the committed point (fresh nil), or a new point.
type refDesire struct {
	absent bool
	fresh  *refPoint
}

type refOwner struct {
	cur, next OwnerConfig
	leaving   bool
}

func newRef(numSlots int) *refArb {
	r := &refArb{
		numSlots: numSlots, usable: firstSlots(numSlots), nextUsable: firstSlots(numSlots),
		owners: map[int]*refOwner{}, points: map[refID]*refPoint{}, desired: map[refID]refDesire{},
	}
	for range numSlots {
		r.slots = append(r.slots, -1)
	}
	return r
}

func distinct(ps []int) []int {
	var out []int
	for _, p := range ps {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func sameSet(x, y []int) bool {
	if len(x) != len(y) {
		return false
	}
	for _, p := range x {
		if !slices.Contains(y, p) {
			return false
		}
	}
	return true
}

func (r *refArb) owner(o int) *refOwner {
	ow := r.owners[o]
	if ow == nil {
		ow = &refOwner{}
		r.owners[o] = ow
	}
	ow.leaving = false
	return ow
}

func (r *refArb) insert(o, k int, ps []int) error {
	if len(ps) == 0 {
		return ErrNoPieces
	}
	ps = distinct(ps)
	r.owner(o)
	id := refID{o, k}
	d, touched := r.desired[id]
	c := r.points[id]
	switch {
	case touched && d.fresh != nil && sameSet(d.fresh.pieces, ps):
		return nil // the same new point again
	case c != nil && sameSet(c.pieces, ps):
		delete(r.desired, id) // as committed: cancels a removal
		return nil
	}
	r.desired[id] = refDesire{fresh: &refPoint{id: id, pieces: ps, seq: r.seq, fresh: true}}
	r.seq++
	return nil
}

func (r *refArb) remove(o, k int) bool {
	id := refID{o, k}
	d, touched := r.desired[id]
	c := r.points[id]
	had := (touched && d.fresh != nil) || (!touched && c != nil)
	if c != nil {
		r.desired[id] = refDesire{absent: true}
	} else {
		delete(r.desired, id)
	}
	return had
}

func (r *refArb) leave(o int) {
	ow := r.owners[o]
	if ow == nil {
		return
	}
	ow.leaving = true
	for id := range r.points {
		if id.o == o {
			r.desired[id] = refDesire{absent: true}
		}
	}
	for id, d := range r.desired {
		if id.o == o && d.fresh != nil && r.points[id] == nil {
			delete(r.desired, id)
		}
	}
}

func (r *refArb) setOwner(o int, c OwnerConfig) error {
	if c.Policy > PolicyError {
		return ErrUnknownPolicy
	}
	if r.owners[o] == nil {
		r.owners[o] = &refOwner{cur: c}
	}
	ow := r.owner(o)
	ow.next = c
	return nil
}

func (r *refArb) setCapacity(n int) error {
	if n < 0 || n > r.numSlots {
		return ErrSlotRange
	}
	r.nextUsable = firstSlots(n)
	return nil
}

func (r *refArb) setSlotUsable(s Slot, ok bool) error {
	if s < 0 || int(s) >= r.numSlots {
		return ErrSlotRange
	}
	if ok {
		r.nextUsable |= 1 << s
	} else {
		r.nextUsable &^= 1 << s
	}
	return nil
}

// rankCmp orders debugpoints as doc.go says: pinned debugpoints that held
// slots, other pinned ones, the rest; then priority descending; then
// install order.
func (r *refArb) rankCmp(x, y *refPoint) int {
	tier := func(p *refPoint) int {
		switch {
		case !r.owners[p.id.o].next.Pinned:
			return 2
		case p.state == Installed:
			return 0
		}
		return 1
	}
	if c := cmp.Compare(tier(x), tier(y)); c != 0 {
		return c
	}
	if c := cmp.Compare(r.owners[y.id.o].next.Priority, r.owners[x.id.o].next.Priority); c != 0 {
		return c
	}
	return cmp.Compare(x.seq, y.seq)
}

func (r *refArb) commit() []Event[int, int] {
	var events []Event[int, int]
	cap0, cap1 := r.usable.Len(), r.nextUsable.Len()

	// Removed: committed points not desired as they are.
	var removed []*refPoint
	for id, p := range r.points {
		if d, ok := r.desired[id]; ok && (d.absent || d.fresh != nil) {
			removed = append(removed, p)
		}
	}
	slices.SortFunc(removed, func(x, y *refPoint) int { return cmp.Compare(x.seq, y.seq) })
	leftFreed := false
	for _, p := range removed {
		ow := r.owners[p.id.o]
		cause := CauseRemoved
		if ow.leaving {
			cause = CauseOwnerLeft
			leftFreed = leftFreed || p.state == Installed
		}
		events = append(events, Event[int, int]{Owner: p.id.o, Key: p.id.k, Priority: ow.cur.Priority, Old: p.state, New: Absent, Cause: cause})
		delete(r.points, p.id)
	}
	for id, d := range r.desired {
		if d.fresh != nil {
			r.points[id] = d.fresh
		}
	}

	// Greedy, in rank order.
	var all []*refPoint
	for _, p := range r.points {
		all = append(all, p)
	}
	slices.SortFunc(all, r.rankCmp)
	var join []int
	admitted := map[*refPoint]bool{}
	for _, p := range all {
		extra := 0
		for _, pc := range p.pieces {
			if !slices.Contains(join, pc) {
				extra++
			}
		}
		if len(join)+extra > cap1 {
			continue
		}
		admitted[p] = true
		for _, pc := range p.pieces {
			if !slices.Contains(join, pc) {
				join = append(join, pc)
			}
		}
	}

	// Slots: stay put, else the lowest free usable slot in join order.
	old := slices.Clone(r.slots)
	for s, pc := range r.slots {
		if pc >= 0 && (!slices.Contains(join, pc) || !r.nextUsable.Has(Slot(s))) {
			r.slots[s] = -1
		}
	}
	for _, pc := range join {
		if slices.Contains(r.slots, pc) {
			continue
		}
		for s := range r.slots {
			if r.slots[s] < 0 && r.nextUsable.Has(Slot(s)) {
				r.slots[s] = pc
				break
			}
		}
	}
	r.changed = 0
	for s := range r.slots {
		if r.slots[s] != old[s] {
			r.changed |= 1 << s
		}
	}

	// Events, in rank order; the first newcomer takes the evictions.
	newState := map[*refPoint]State{}
	var taker *refPoint
	for _, p := range all {
		ns := Installed
		if !admitted[p] {
			ns = pending(r.owners[p.id.o].next, p.fresh)
		}
		newState[p] = ns
		if ns == Installed && p.state != Installed && taker == nil {
			taker = p
		}
	}
	for _, p := range all {
		ns := newState[p]
		if ns == p.state {
			continue
		}
		ow := r.owners[p.id.o]
		e := Event[int, int]{Owner: p.id.o, Key: p.id.k, Priority: ow.next.Priority, Old: p.state, New: ns}
		switch {
		case p.state == Absent:
			e.Cause = CauseInserted
		case p.state == Installed:
			if taker != nil && r.rankCmp(taker, p) < 0 {
				to := r.owners[taker.id.o].next
				e.Cause = CauseEvicted
				e.By = Taker[int, int]{Owner: taker.id.o, Key: taker.id.k, Priority: to.Priority, Pinned: to.Pinned}
			} else {
				e.Cause = CauseCapacityShrank
			}
		case ns == Installed:
			switch {
			case !ow.cur.Pinned && ow.next.Pinned:
				e.Cause = CausePinned
			case ow.next.Priority > ow.cur.Priority:
				e.Cause = CausePriorityRaised
			case leftFreed:
				e.Cause = CauseOwnerLeft
			case cap1 > cap0:
				e.Cause = CauseCapacityGrew
			default:
				e.Cause = CauseSlotFreed
			}
		default:
			e.Cause = CausePolicyChanged
		}
		events = append(events, e)
	}
	for _, p := range all {
		p.state = newState[p]
		p.fresh = false
		if p.state == Refused {
			delete(r.points, p.id)
		}
	}
	for o, ow := range r.owners {
		ow.cur = ow.next
		if ow.leaving {
			for id := range r.points {
				if id.o == o {
					panic(fmt.Sprintf("ref: owner %d left with point %v", o, id))
				}
			}
			delete(r.owners, o)
		}
	}
	r.usable = r.nextUsable
	clear(r.desired)
	return events
}

func (r *refArb) hit(s Slot) int {
	if s < 0 || int(s) >= len(r.slots) || r.slots[s] < 0 {
		return 0
	}
	n := 0
	for _, p := range r.points {
		if p.state == Installed && slices.Contains(p.pieces, r.slots[s]) {
			p.hits++
			n++
		}
	}
	return n
}
