package arbiter

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// opKind is one operation of a generated sequence.
type opKind uint8

const (
	opInsert opKind = iota
	opRemove
	opLeave
	opSetOwner
	opSetCapacity
	opSetSlotUsable
	opCommit
	opHit
	opChurn // remove and insert again every debugpoint, in one transaction, then commit
	numOps
)

var opNames = [...]string{"insert", "remove", "leave", "set-owner", "set-capacity", "set-slot-usable", "commit", "hit", "churn"}

type op struct {
	kind   opKind
	o, k   int
	pieces []int
	cfg    OwnerConfig
	n      int // capacity, slot or churn seed
	ok     bool
}

func (x op) String() string {
	switch x.kind {
	case opInsert:
		return fmt.Sprintf("insert(o%d, k%d, %v)", x.o, x.k, x.pieces)
	case opRemove:
		return fmt.Sprintf("remove(o%d, k%d)", x.o, x.k)
	case opLeave:
		return fmt.Sprintf("leave(o%d)", x.o)
	case opSetOwner:
		return fmt.Sprintf("set-owner(o%d, %+v)", x.o, x.cfg)
	case opSetCapacity:
		return fmt.Sprintf("set-capacity(%d)", x.n)
	case opSetSlotUsable:
		return fmt.Sprintf("set-slot-usable(%d, %v)", x.n, x.ok)
	case opHit:
		return fmt.Sprintf("hit(%d)", x.n)
	case opChurn:
		return fmt.Sprintf("churn(%d)", x.n)
	}
	return opNames[x.kind]
}

// failer is what the harness needs of testing.TB and rapid.T.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// harness runs the same operations on an Arbiter and the reference model,
// compares them after every commit and checks the invariants.
type harness struct {
	t    failer
	a    *Arbiter[int, int, int]
	r    *refArb
	ops  []op // done so far, for failure messages
	open bool // a transaction has staged operations
}

func newHarness(t failer, numSlots int) *harness {
	return &harness{t: t, a: New[int, int, int](numSlots), r: newRef(numSlots)}
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	var log []string
	for _, x := range h.ops {
		log = append(log, x.String())
	}
	h.t.Fatalf("%s\nafter:\n  %s", fmt.Sprintf(format, args...), strings.Join(log, "\n  "))
}

func (h *harness) do(x op) {
	h.t.Helper()
	if x.kind != opChurn {
		h.ops = append(h.ops, x)
	}
	switch x.kind {
	case opInsert:
		e1, e2 := h.a.Insert(x.o, x.k, x.pieces...), h.r.insert(x.o, x.k, x.pieces)
		if !errors.Is(e1, ErrNoPieces) != (e2 == nil) {
			h.fatalf("insert: arbiter %v, model %v", e1, e2)
		}
	case opRemove:
		if b1, b2 := h.a.Remove(x.o, x.k), h.r.remove(x.o, x.k); b1 != b2 {
			h.fatalf("remove: arbiter %v, model %v", b1, b2)
		}
	case opLeave:
		h.a.Leave(x.o)
		h.r.leave(x.o)
	case opSetOwner:
		e1, e2 := h.a.SetOwner(x.o, x.cfg), h.r.setOwner(x.o, x.cfg)
		if (e1 == nil) != (e2 == nil) {
			h.fatalf("set-owner: arbiter %v, model %v", e1, e2)
		}
	case opSetCapacity:
		e1, e2 := h.a.SetCapacity(x.n), h.r.setCapacity(x.n)
		if (e1 == nil) != (e2 == nil) {
			h.fatalf("set-capacity: arbiter %v, model %v", e1, e2)
		}
	case opSetSlotUsable:
		e1, e2 := h.a.SetSlotUsable(Slot(x.n), x.ok), h.r.setSlotUsable(Slot(x.n), x.ok)
		if (e1 == nil) != (e2 == nil) {
			h.fatalf("set-slot-usable: arbiter %v, model %v", e1, e2)
		}
	case opCommit:
		h.commit()
		return
	case opHit:
		s := Slot(x.n)
		if n1, n2 := h.a.Hit(s), h.r.hit(s); n1 != n2 {
			h.fatalf("hit slot %d: arbiter %d holders, model %d", s, n1, n2)
		}
		return
	case opChurn:
		h.churn(x.n)
		return
	}
	h.open = true
}

// snapshot is the state a commit starts from, as the arbiter's queries
// tell it.
type snapshot struct {
	states map[refID]State
	cfg    map[int]OwnerConfig
	slots  map[int]Slot // piece -> slot
	usable SlotSet
}

func (h *harness) snapshot() snapshot {
	s := snapshot{states: map[refID]State{}, cfg: map[int]OwnerConfig{}, slots: map[int]Slot{}, usable: h.a.Usable()}
	for o := range h.a.Owners() {
		oi := h.a.ownerIdx[o]
		s.cfg[o] = h.a.owners[oi].cur
		for info := range h.a.Debugpoints(o) {
			s.states[refID{o, info.Key}] = info.State
		}
	}
	for sl, p := range h.a.Slots() {
		s.slots[p] = sl
	}
	return s
}

func (h *harness) commit() {
	h.t.Helper()
	before := h.snapshot()
	got := slices.Clone(h.a.Commit())
	want := h.r.commit()
	h.open = false
	if !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
		h.fatalf("commit events:\narbiter %s\nmodel   %s", fmtEvents(got), fmtEvents(want))
	}
	if g, w := h.a.ChangedSlots(), h.r.changed; g != w {
		h.fatalf("changed slots: arbiter %v, model %v", g, w)
	}
	h.compare()
	h.checkInvariants(before, got)
}

func fmtEvents(evs []Event[int, int]) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  o%d k%d p%d %v->%v %v", e.Owner, e.Key, e.Priority, e.Old, e.New, e.Cause)
		if e.Cause == CauseEvicted {
			fmt.Fprintf(&b, " by o%d k%d p%d", e.By.Owner, e.By.Key, e.By.Priority)
		}
	}
	return b.String()
}

// compare checks that the arbiter's table is the model's.
func (h *harness) compare() {
	h.t.Helper()
	for s := range h.a.NumSlots() {
		p, ok := h.a.SlotPiece(Slot(s))
		w := h.r.slots[s]
		if (ok && p != w) || (!ok && w >= 0) {
			h.fatalf("slot %d: arbiter %v %v, model %v", s, p, ok, w)
		}
	}
	if g, w := h.a.Usable(), h.r.usable; g != w {
		h.fatalf("usable: arbiter %v, model %v", g, w)
	}
	n := 0
	for o, c := range h.a.Owners() {
		ro := h.r.owners[o]
		if ro == nil || ro.next != c {
			h.fatalf("owner %d: arbiter %+v, model %+v", o, c, ro)
		}
		for info := range h.a.Debugpoints(o) {
			n++
			p := h.r.points[refID{o, info.Key}]
			if p == nil {
				h.fatalf("o%d k%d: in the arbiter (%v), not in the model", o, info.Key, info.State)
			}
			if info.State != p.state || info.Order != p.seq || info.Hits != p.hits {
				h.fatalf("o%d k%d: arbiter %+v, model %+v", o, info.Key, info, *p)
			}
		}
	}
	if len(h.a.ownerIdx) != len(h.r.owners) {
		h.fatalf("owners: arbiter %d, model %d", len(h.a.ownerIdx), len(h.r.owners))
	}
	if n != len(h.r.points) {
		h.fatalf("debugpoints: arbiter %d, model %d (lost or extra)", n, len(h.r.points))
	}
	// Internal consistency: every piece entry is used, every user live.
	live := 0
	for pid := range h.a.pieces {
		pe := &h.a.pieces[pid]
		if !pe.live {
			continue
		}
		live++
		if len(pe.users) == 0 {
			h.fatalf("piece %v kept without users", pe.p)
		}
	}
	if live != len(h.a.pieceIdx) {
		h.fatalf("pieces: %d live entries, %d indexed", live, len(h.a.pieceIdx))
	}
}

// checkInvariants checks the rules of doc.go on the arbiter's state after
// a commit, independently of the model's algorithm (the pieces of each
// debugpoint come from the model, which keeps what was inserted).
func (h *harness) checkInvariants(before snapshot, evs []Event[int, int]) {
	h.t.Helper()
	a := h.a
	capacity := a.Capacity()
	inSlot := map[int]Slot{}
	for s, p := range a.Slots() {
		if _, dup := inSlot[p]; dup {
			h.fatalf("piece %d in two slots", p)
		}
		if !a.Usable().Has(s) {
			h.fatalf("piece %d in unusable slot %d", p, s)
		}
		inSlot[p] = s
		holders := 0
		for range a.Holders(s) {
			holders++
		}
		if holders == 0 {
			h.fatalf("slot %d holds piece %d for no installed debugpoint", s, p)
		}
	}
	if len(inSlot) > capacity {
		h.fatalf("%d pieces in %d usable slots", len(inSlot), capacity)
	}
	// The books of the fast commit (fast.go): the installed list and
	// its positions, the count of waiting debugpoints, each slotted
	// piece's adder an installed user of it.
	waiting, installed := 0, 0
	for id := range a.nodes {
		n := &a.nodes[id]
		if !n.is(flagLive) {
			continue
		}
		switch n.state {
		case Emulated, Suspended:
			waiting++
		case Installed:
			installed++
			if int(n.ipos) >= len(a.inst) || a.inst[n.ipos] != int32(id) {
				h.fatalf("installed node %d at %d of inst %v", id, n.ipos, a.inst)
			}
		}
	}
	if waiting != a.nWaiting || installed != len(a.inst) {
		h.fatalf("%d waiting, %d installed; counted %d and %d", waiting, installed, a.nWaiting, len(a.inst))
	}
	for _, pid := range a.slots {
		if pid == none {
			continue
		}
		ad := a.pieces[pid].adder
		if ad != none && (!a.nodes[ad].is(flagLive) || a.nodes[ad].state != Installed || !slices.Contains(a.nodes[ad].pids, pid)) {
			h.fatalf("piece %v: adder %d is not an installed user", a.pieces[pid].p, ad)
		}
	}

	type pt struct {
		id     refID
		pieces []int
		state  State
		cfg    OwnerConfig
		seq    uint64
		tier   int
	}
	var pts []pt
	for o, c := range a.Owners() {
		for info := range a.Debugpoints(o) {
			p := h.r.points[refID{o, info.Key}]
			tier := 2
			if c.Pinned {
				tier = 1
				if before.states[p.id] == Installed {
					tier = 0
				}
			}
			pts = append(pts, pt{p.id, p.pieces, info.State, c, info.Order, tier})
		}
	}
	ranksBefore := func(x, y pt) bool { // x ranks before y
		if x.tier != y.tier {
			return x.tier < y.tier
		}
		if x.cfg.Priority != y.cfg.Priority {
			return x.cfg.Priority > y.cfg.Priority
		}
		return x.seq < y.seq
	}
	for _, p := range pts {
		all := true
		for _, pc := range p.pieces {
			_, ok := inSlot[pc]
			all = all && ok
		}
		switch {
		case p.state == Installed && !all:
			h.fatalf("%v installed without all its pieces %v in slots", p.id, p.pieces)
		case p.state != Installed && all:
			h.fatalf("%v %v though all its pieces %v are in slots", p.id, p.state, p.pieces)
		case p.state == Refused || p.state == Absent:
			h.fatalf("%v kept as %v", p.id, p.state)
		case p.state == Emulated && p.cfg.Policy != PolicyEmulate,
			p.state == Suspended && p.cfg.Policy == PolicyEmulate:
			h.fatalf("%v %v under policy %v", p.id, p.state, p.cfg.Policy)
		}
		if p.state == Installed {
			continue
		}
		// Priority order and the McGrath guarantee: a debugpoint without
		// a slot could not have one even if every installed debugpoint
		// ranked after it were evicted.
		held := map[int]bool{}
		topPrio := true
		for _, q := range pts {
			if q.state == Installed && ranksBefore(q, p) {
				for _, pc := range q.pieces {
					held[pc] = true
				}
			}
			if q.id != p.id && (q.cfg.Priority > p.cfg.Priority || q.cfg.Pinned) {
				topPrio = false
			}
		}
		for _, pc := range p.pieces {
			held[pc] = true
		}
		if len(held) <= capacity {
			what := "priority order"
			if topPrio {
				what = "McGrath guarantee"
			}
			h.fatalf("%s: %v (priority %d) has no slot, yet its pieces and those of the debugpoints ranked before it need only %d of %d slots",
				what, p.id, p.cfg.Priority, len(held), capacity)
		}
	}

	// Pinned never evicted: only a shrinking capacity unpins hardware.
	shrank := capacity < before.usable.Len()
	for _, p := range pts {
		if !shrank && before.states[p.id] == Installed && before.cfg[p.id.o].Pinned && p.cfg.Pinned && p.state != Installed {
			h.fatalf("pinned %v evicted (%v) without the capacity shrinking", p.id, p.state)
		}
	}

	// Slots stay put.
	for pc, s := range before.slots {
		if s2, ok := inSlot[pc]; ok && a.Usable().Has(s) && s2 != s {
			h.fatalf("piece %d moved from slot %d to %d", pc, s, s2)
		}
	}

	// Events: exactly one for each debugpoint whose state changed.
	after := map[refID]State{}
	for _, p := range pts {
		after[p.id] = p.state
	}
	// A debugpoint replaced under its key (different pieces) is two: the
	// removal of the old one, then the event of the new one.
	seen := map[refID]bool{}
	replaced := map[refID]bool{}
	for _, e := range evs {
		id := refID{e.Owner, e.Key}
		old := before.states[id]
		switch {
		case seen[id] && !replaced[id] && e.Old == Absent:
			replaced[id] = true
			old = Absent
		case seen[id]:
			h.fatalf("two events for %v", id)
		}
		seen[id] = true
		if e.Old == e.New {
			h.fatalf("event for %v without a change (%v)", id, e.Old)
		}
		if e.Old != old {
			h.fatalf("event for %v from %v, but it was %v", id, e.Old, old)
		}
		if e.New != after[id] && !(e.New == Refused && after[id] == Absent) && !(e.New == Absent && !replaced[id]) {
			h.fatalf("event for %v to %v, but it is %v", id, e.New, after[id])
		}
	}
	for _, e := range evs {
		if id := (refID{e.Owner, e.Key}); e.New == Absent && after[id] != Absent && !replaced[id] {
			h.fatalf("%v removed, yet it is %v", id, after[id])
		}
	}
	for _, id := range slices.Collect(maps.Keys(after)) {
		if after[id] != before.states[id] && !seen[id] {
			h.fatalf("%v went from %v to %v without an event", id, before.states[id], after[id])
		}
	}
	for id, s := range before.states {
		if _, ok := after[id]; !ok && !seen[id] {
			h.fatalf("%v (%v) vanished without an event", id, s)
		}
	}
}

// churn removes every committed debugpoint and inserts it again in one
// transaction, as gdb does at each stop, in an order drawn from seed:
// nothing may change and nothing be emitted.
func (h *harness) churn(seed int) {
	h.t.Helper()
	if h.open {
		h.commit()
	}
	h.ops = append(h.ops, op{kind: opChurn, n: seed})
	type dp struct {
		id     refID
		pieces []int
	}
	var dps []dp
	for _, p := range h.r.points {
		dps = append(dps, dp{p.id, p.pieces})
	}
	slices.SortFunc(dps, func(x, y dp) int {
		if x.id.o != y.id.o {
			return x.id.o - y.id.o
		}
		return x.id.k - y.id.k
	})
	// A fixed shuffle of the inserts, so the order differs from the removes.
	ins := slices.Clone(dps)
	for i := range ins {
		j := (seed*7 + i*13) % len(ins)
		ins[i], ins[j] = ins[j], ins[i]
	}
	before := h.snapshot()
	for _, d := range dps {
		h.a.Remove(d.id.o, d.id.k)
		h.r.remove(d.id.o, d.id.k)
	}
	for _, d := range ins {
		// Pieces in reverse: a set, not a sequence.
		rev := slices.Clone(d.pieces)
		slices.Reverse(rev)
		if err := h.a.Insert(d.id.o, d.id.k, rev...); err != nil {
			h.fatalf("churn insert: %v", err)
		}
		_ = h.r.insert(d.id.o, d.id.k, rev)
	}
	evs := h.a.Commit()
	if len(evs) != 0 {
		h.fatalf("churn emitted %s", fmtEvents(evs))
	}
	if c := h.a.ChangedSlots(); c != 0 {
		h.fatalf("churn changed slots %v", c)
	}
	if evs := h.r.commit(); len(evs) != 0 {
		h.fatalf("model: churn emitted %s", fmtEvents(evs))
	}
	after := h.snapshot()
	if !reflect.DeepEqual(before.states, after.states) || !reflect.DeepEqual(before.slots, after.slots) {
		h.fatalf("churn changed the table: %+v -> %+v", before, after)
	}
	h.compare()
}
