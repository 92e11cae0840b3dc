package arbiter

import (
	"cmp"
	"slices"
)

// Commit applies the staged changes at once, re-plans, and returns the
// events: first the removed debugpoints in install order, then the others
// that changed state, in rank order (see the package documentation). The
// slice is reused by the next Commit. A transaction that changes nothing,
// such as gdb removing and inserting again every debugpoint at a stop,
// returns no events and allocates nothing.
func (a *Arbiter[O, K, P]) Commit() []Event[O, K] {
	a.events = a.events[:0]
	a.changed = 0
	if a.nRemoving == 0 && a.nFresh == 0 && a.nLeaving == 0 && !a.cfgChanged && a.nextUsable == a.usable {
		for _, id := range a.remList {
			a.nodes[id].flags &^= flagInRemList
		}
		a.remList = a.remList[:0]
		a.freshList = a.freshList[:0]
		return a.events
	}
	a.gen++
	if a.fastCommit() {
		a.fastCommits++
		return a.events
	}
	a.gen++ // the marks fastCommit left are void
	cap0, cap1 := a.usable.Len(), a.nextUsable.Len()
	a.removeFlagged()
	if a.orderStale {
		a.sortOwners()
	}
	a.plan(cap1)
	a.assign()
	evs := a.stateEvents(cap0, cap1)
	a.finish(evs)
	return a.events
}

// ChangedSlots returns the slots whose piece changed at the last Commit:
// the debug registers the server must write.
func (a *Arbiter[O, K, P]) ChangedSlots() SlotSet { return a.changed }

// rankKey orders debugpoints: tier, then priority descending, then
// install order. Tier 0 holds the pinned debugpoints installed before the
// commit, so no other debugpoint can take their slots; tier 1 the other
// pinned ones; tier 2 the rest.
type rankKey struct {
	tier int
	prio int
	seq  uint64
}

// rank returns a node's rank for the commit in progress: the staged
// owner config and the state before the commit.
func (a *Arbiter[O, K, P]) rank(id int32) rankKey {
	n := &a.nodes[id]
	c := a.owners[n.owner].next
	tier := 2
	if c.Pinned {
		tier = 1
		if n.state == Installed {
			tier = 0
		}
	}
	return rankKey{tier, c.Priority, n.seq}
}

func (a *Arbiter[O, K, P]) cmpRank(x, y int32) int {
	rx, ry := a.rank(x), a.rank(y)
	if c := cmp.Compare(rx.tier, ry.tier); c != 0 {
		return c
	}
	if c := cmp.Compare(ry.prio, rx.prio); c != 0 {
		return c
	}
	return cmp.Compare(rx.seq, ry.seq)
}

func (a *Arbiter[O, K, P]) cmpSeq(x, y int32) int {
	return cmp.Compare(a.nodes[x].seq, a.nodes[y].seq)
}

// removeFlagged removes the nodes still flagged for removal, emitting
// their events in install order.
func (a *Arbiter[O, K, P]) removeFlagged() {
	rm := a.buf[:0]
	for _, id := range a.remList {
		n := &a.nodes[id]
		n.flags &^= flagInRemList
		if n.is(flagRemoving) {
			rm = append(rm, id)
		}
	}
	a.remList = a.remList[:0]
	slices.SortFunc(rm, a.cmpSeq)
	a.leftFreed = false
	for _, id := range rm {
		n := &a.nodes[id]
		ow := &a.owners[n.owner]
		cause := CauseRemoved
		if ow.leaving {
			cause = CauseOwnerLeft
			if n.state == Installed {
				a.leftFreed = true
			}
		}
		a.events = append(a.events, Event[O, K]{
			Owner: ow.o, Key: n.key, Priority: ow.cur.Priority,
			Old: n.state, New: Absent, Cause: cause,
		})
		a.setState(n, Absent)
		id2 := ident[O, K]{ow.o, n.key}
		if n.repl != none {
			a.index[id2] = n.repl
			a.nodes[n.repl].base = none
		} else {
			delete(a.index, id2)
		}
		a.freeNode(id)
	}
	a.buf = rm
}

// sortOwners orders the live owners by pinned first, then priority
// descending; equal owners by index, though the walk merges them by
// install order anyway.
func (a *Arbiter[O, K, P]) sortOwners() {
	a.ownerOrder = a.ownerOrder[:0]
	for i := range a.owners {
		if a.owners[i].live {
			a.ownerOrder = append(a.ownerOrder, int32(i))
		}
	}
	slices.SortFunc(a.ownerOrder, func(x, y int32) int {
		cx, cy := a.owners[x].next, a.owners[y].next
		if cx.Pinned != cy.Pinned {
			if cx.Pinned {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(cy.Priority, cx.Priority); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	a.orderStale = false
}

// plan decides which debugpoints hold slots: the greedy rule of the
// package documentation, admitting each debugpoint in rank order if all
// its pieces fit beside those already admitted. It looks only at what can
// change: the walk in rank order stops as soon as the slots are full,
// since from then on a debugpoint is admitted exactly when all its pieces
// are already in, and those are found from the pieces' users.
func (a *Arbiter[O, K, P]) plan(capacity int) {
	a.adm = a.adm[:0]
	a.join = a.join[:0]
	if capacity == 0 {
		return
	}
	if !a.planPinned(capacity) && !a.planTiers(capacity) {
		return
	}
	// The slots are full: the rest are in exactly when all their pieces
	// are. Only users of the admitted pieces can be.
	for _, pid := range a.join {
		for _, uid := range a.pieces[pid].users {
			n := &a.nodes[uid]
			if n.visit == a.gen {
				continue
			}
			n.visit = a.gen
			if a.allIn(n) {
				n.admit = a.gen
				a.adm = append(a.adm, uid)
			}
		}
	}
}

// planPinned walks tier 0, the pinned debugpoints that hold slots, and
// reports whether the slots are full.
func (a *Arbiter[O, K, P]) planPinned(capacity int) bool {
	t0 := a.buf[:0]
	for _, id := range a.inst {
		n := &a.nodes[id]
		if n.is(flagLive) && a.owners[n.owner].next.Pinned {
			t0 = append(t0, id)
		}
	}
	slices.SortFunc(t0, a.cmpRank)
	a.buf = t0
	for _, id := range t0 {
		if a.consider(id, capacity) {
			return true
		}
	}
	return false
}

// planTiers walks tiers 1 and 2: every owner group of equal pinning and
// priority, in owner order, until the slots are full, which it reports.
func (a *Arbiter[O, K, P]) planTiers(capacity int) bool {
	for i := 0; i < len(a.ownerOrder); {
		c := a.owners[a.ownerOrder[i]].next
		j := i + 1
		for j < len(a.ownerOrder) {
			cj := a.owners[a.ownerOrder[j]].next
			if cj.Pinned != c.Pinned || cj.Priority != c.Priority {
				break
			}
			j++
		}
		if a.planGroup(a.ownerOrder[i:j], capacity) {
			return true
		}
		i = j
	}
	return false
}

// planGroup walks the debugpoints of a group of equal owners, their lists
// merged by install order, and reports whether the slots are full.
func (a *Arbiter[O, K, P]) planGroup(group []int32, capacity int) bool {
	cur := a.cursors[:0]
	for _, oi := range group {
		if h := a.owners[oi].head; h != none {
			cur = append(cur, h)
		}
	}
	full := false
	for len(cur) > 0 && !full {
		m := 0
		for x := 1; x < len(cur); x++ {
			if a.nodes[cur[x]].seq < a.nodes[cur[m]].seq {
				m = x
			}
		}
		id := cur[m]
		if nx := a.nodes[id].next; nx != none {
			cur[m] = nx
		} else {
			cur[m] = cur[len(cur)-1]
			cur = cur[:len(cur)-1]
		}
		if a.nodes[id].visit == a.gen {
			continue // tier 0, done above
		}
		full = a.consider(id, capacity)
	}
	a.cursors = cur
	return full
}

// consider admits node id if its pieces fit, and reports whether the
// slots are now full.
func (a *Arbiter[O, K, P]) consider(id int32, capacity int) bool {
	n := &a.nodes[id]
	n.visit = a.gen
	extra := 0
	for _, pid := range n.pids {
		if a.pieces[pid].inS != a.gen {
			extra++
		}
	}
	if len(a.join)+extra > capacity {
		return false
	}
	for _, pid := range n.pids {
		if pe := &a.pieces[pid]; pe.inS != a.gen {
			pe.inS = a.gen
			pe.adder = id
			a.join = append(a.join, pid)
		}
	}
	n.admit = a.gen
	a.adm = append(a.adm, id)
	return len(a.join) == capacity
}

func (a *Arbiter[O, K, P]) allIn(n *node[K]) bool {
	for _, pid := range n.pids {
		if a.pieces[pid].inS != a.gen {
			return false
		}
	}
	return true
}

// assign gives each planned piece a slot. A piece that stays keeps its
// slot, so the server writes no debug register for it; the others take
// the lowest free usable slot, in the order they joined the plan.
func (a *Arbiter[O, K, P]) assign() {
	copy(a.oldSlots, a.slots)
	for s, pid := range a.slots {
		if pid == none {
			continue
		}
		if pe := &a.pieces[pid]; pe.inS != a.gen || !a.nextUsable.Has(Slot(s)) {
			a.slots[s] = none
			pe.slot = none
		}
	}
	for _, pid := range a.join {
		pe := &a.pieces[pid]
		if pe.slot != none {
			continue
		}
		for s := range a.slots {
			if a.slots[s] == none && a.nextUsable.Has(Slot(s)) {
				a.slots[s] = pid
				pe.slot = int32(s)
				break
			}
		}
	}
	for s := range a.slots {
		if a.slots[s] != a.oldSlots[s] {
			a.changed |= 1 << s
		}
	}
	for _, pid := range a.orphans {
		if pe := &a.pieces[pid]; pe.live && len(pe.users) == 0 && pe.slot == none {
			a.freePiece(pid)
		}
	}
	a.orphans = a.orphans[:0]
}

// pending returns the state of a debugpoint without a slot.
func pending(c OwnerConfig, fresh bool) State {
	switch {
	case fresh && (c.Pinned || c.Policy == PolicyError):
		return Refused
	case c.Policy == PolicyEmulate:
		return Emulated
	}
	return Suspended
}

// stateEvents emits an event for each debugpoint whose state changes and
// returns those debugpoints, in rank order. Only the debugpoints that held
// slots, that hold them now, that are new, or whose owner changed policy
// can change state.
func (a *Arbiter[O, K, P]) stateEvents(cap0, cap1 int) []int32 {
	cand := a.cand[:0]
	add := func(cand []int32, id int32) []int32 {
		n := &a.nodes[id]
		if !n.is(flagLive) || n.touch == a.gen {
			return cand
		}
		n.touch = a.gen
		return append(cand, id)
	}
	for _, id := range a.inst {
		cand = add(cand, id)
	}
	for _, id := range a.adm {
		cand = add(cand, id)
	}
	for _, id := range a.freshList {
		cand = add(cand, id)
	}
	for _, oi := range a.ownerOrder {
		ow := &a.owners[oi]
		if ow.cur.Policy == ow.next.Policy {
			continue
		}
		for id := ow.head; id != none; id = a.nodes[id].next {
			cand = add(cand, id)
		}
	}
	// The newcomer ranked first: the taker of every eviction it ranks
	// before. If an evicted debugpoint ranks before every newcomer, the
	// capacity shrank (see the proof in the package documentation).
	taker := int32(none)
	evs := a.buf[:0]
	for _, id := range cand {
		n := &a.nodes[id]
		c := a.owners[n.owner].next
		ns := Installed
		if n.admit != a.gen {
			ns = pending(c, n.is(flagFresh))
		}
		if ns == n.state {
			continue
		}
		n.planned = ns
		evs = append(evs, id)
		if ns == Installed && (taker == none || a.cmpRank(id, taker) < 0) {
			taker = id
		}
	}
	a.cand = cand
	slices.SortFunc(evs, a.cmpRank)
	a.buf = evs
	for _, id := range evs {
		a.events = append(a.events, a.stateEvent(id, taker, cap1 > cap0))
	}
	return evs
}

// stateEvent is the event of node id, whose state changes to n.planned,
// with its cause by the first rule of the package documentation that
// applies; taker is the newcomer ranked first (or none), grew whether
// the capacity grew.
func (a *Arbiter[O, K, P]) stateEvent(id, taker int32, grew bool) Event[O, K] {
	n := &a.nodes[id]
	ow := &a.owners[n.owner]
	e := Event[O, K]{Owner: ow.o, Key: n.key, Priority: ow.next.Priority, Old: n.state, New: n.planned}
	switch {
	case n.state == Absent:
		e.Cause = CauseInserted
	case n.state == Installed:
		if taker != none && a.cmpRank(taker, id) < 0 {
			t := &a.nodes[taker]
			to := &a.owners[t.owner]
			e.Cause = CauseEvicted
			e.By = Taker[O, K]{Owner: to.o, Key: t.key, Priority: to.next.Priority, Pinned: to.next.Pinned}
		} else {
			e.Cause = CauseCapacityShrank
		}
	case n.planned == Installed:
		switch {
		case !ow.cur.Pinned && ow.next.Pinned:
			e.Cause = CausePinned
		case ow.next.Priority > ow.cur.Priority:
			e.Cause = CausePriorityRaised
		case a.leftFreed:
			e.Cause = CauseOwnerLeft
		case grew:
			e.Cause = CauseCapacityGrew
		default:
			e.Cause = CauseSlotFreed
		}
	default:
		e.Cause = CausePolicyChanged
	}
	return e
}

// setState sets a committed node's state, counting the nodes that wait
// for a slot (emulated or suspended).
func (a *Arbiter[O, K, P]) setState(n *node[K], s State) {
	if n.state == Emulated || n.state == Suspended {
		a.nWaiting--
	}
	if s == Emulated || s == Suspended {
		a.nWaiting++
	}
	n.state = s
}

// finish makes the plan the committed state: new states, refused
// debugpoints dropped, fresh ones committed, configs applied, departed
// owners forgotten.
func (a *Arbiter[O, K, P]) finish(evs []int32) {
	for _, id := range evs {
		n := &a.nodes[id]
		if n.planned != Refused {
			a.setState(n, n.planned)
			continue
		}
		// A refused debugpoint is fresh and, its base (if any) removed
		// above, the one index names.
		delete(a.index, ident[O, K]{a.owners[n.owner].o, n.key})
		a.freeNode(id)
	}
	for _, id := range a.freshList {
		a.nodes[id].flags &^= flagFresh
	}
	a.freshList = a.freshList[:0]
	a.nFresh = 0
	a.inst, a.adm = a.adm, a.inst
	a.adm = a.adm[:0]
	for i, id := range a.inst {
		a.nodes[id].ipos = int32(i)
	}
	for oi := range a.owners {
		ow := &a.owners[oi]
		if !ow.live {
			continue
		}
		ow.cur = ow.next
		if ow.leaving {
			a.deleteOwner(int32(oi))
		}
	}
	a.nLeaving = 0
	a.cfgChanged = false
	a.usable = a.nextUsable
}
