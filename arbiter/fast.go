package arbiter

import "slices"

// The fast commit: a transaction of inserts and removes that cannot move
// any other debugpoint is applied without a re-plan. The full plan walks
// the rank order until the slots are full and then visits the users of
// the installed pieces; where the slots never fill (n debugpoints
// sharing one piece, or a wide debugpoint leaving a slot the others
// cannot use) that is every debugpoint, at every commit. These rules
// decide the common commits of such tables in time independent of n.
//
// Let S be the pieces in slots after the last commit, F the usable slots
// left free. The plan is the greedy walk of the package documentation,
// so S is the union of the installed debugpoints' pieces, and a
// debugpoint is installed exactly when all its pieces are in S (one
// refused at its turn could not get its missing pieces later: those
// would need more slots than were free at its turn).
//
// Each piece in a slot records its adder, the debugpoint that brought it
// in at its turn of the last walk, so that S_t, the pieces in the slots
// at the turn of a debugpoint t, are those whose adder ranks before t.
// A fast commit keeps the record (a piece whose adder is removed, or
// that a debugpoint ranked before its adder now uses, has an adder
// unknown or ranked too late: S_t is then taken smaller, which only
// makes the rules below decline more often); the full plan rewrites it.
//
//   - Removing a debugpoint that is not installed changes nothing: it
//     added no piece at its turn.
//   - Removing an installed debugpoint each of whose pieces was in S_t
//     at its turn (its adder, or another installed user, ranks before
//     it) changes nothing either.
//   - Removing an installed debugpoint that ranks after every other
//     committed debugpoint changes nothing before its turn, and there is
//     nothing after it; nor does removing one when every other committed
//     debugpoint is installed: they all fitted with it, so they fit
//     without it. Its pieces that no other installed debugpoint uses
//     leave the slots.
//   - Inserting a debugpoint N with |N \ S| <= F installs it and changes
//     nothing else. At its turn the walk had at least F slots free plus
//     one for each piece of N that a later debugpoint added, so N fits;
//     every debugpoint installed before still fits after it, since what
//     N adds beyond S takes only slots that stayed free to the end; one
//     refused before is refused still, as N only takes room.
//   - Inserting a debugpoint that needs more slots at its turn than were
//     free then (|N \ S_t| > usable - |S_t|) leaves it without a slot and
//     changes nothing: the walk is the same with or without it.
//
// Removals are applied first, then inserts in rank order, each to the
// plan the previous ones left. Anything else (a replaced debugpoint, an
// owner leaving or changing its configuration, a capacity change) takes
// the full plan. The property tests compare both with the
// reference model.

// fastCommit applies the open transaction by the rules above and reports
// whether it could. When it reports false it has changed nothing but
// marks of the current gen and adders, which the full plan that follows
// (in a new gen) rewrites.
func (a *Arbiter[O, K, P]) fastCommit() bool {
	if a.nLeaving != 0 || a.cfgChanged || a.nextUsable != a.usable {
		return false
	}
	if a.orderStale {
		a.sortOwners() // a new owner (its config is its first)
	}
	last, known := a.lastCommitted()
	after := func(id int32) bool { return known && (last == none || a.cmpRank(id, last) > 0) }
	rm, freed, ok := a.fastRemovals(after)
	if !ok {
		return false
	}
	fresh, ok := a.fastInserts()
	if !ok || !a.fastAdmit(fresh, freed, after) {
		return false
	}
	a.applyFastRemovals(rm, freed)
	a.applyFastInserts(fresh)
	for _, pid := range a.orphans {
		if pe := &a.pieces[pid]; pe.live && len(pe.users) == 0 && pe.slot == none {
			a.freePiece(pid)
		}
	}
	a.orphans = a.orphans[:0]
	a.join = a.join[:0]
	return true
}

// fastRemovals checks the transaction's removals against the rules and
// returns them (rm) and the pieces they free from the slots (freed); it
// reports false when one could move another debugpoint. after says
// whether a debugpoint ranks after every committed one.
func (a *Arbiter[O, K, P]) fastRemovals(after func(int32) bool) (rm, freed []int32, ok bool) {
	rm, freed = a.buf[:0], a.join[:0]
	waiting := a.nWaiting // after the removals
	for _, id := range a.remList {
		n := &a.nodes[id]
		if n.is(flagRemoving) && (n.state == Emulated || n.state == Suspended) {
			waiting--
		}
	}
	for _, id := range a.remList {
		n := &a.nodes[id]
		if !n.is(flagRemoving) {
			continue
		}
		if n.repl != none {
			return nil, nil, false // replaced by other pieces under the same key
		}
		rm = append(rm, id)
		if n.state != Installed || a.addedNothing(id) {
			continue
		}
		if waiting > 0 && !after(id) {
			return nil, nil, false
		}
		for _, pid := range n.pids {
			if a.pieces[pid].slot != none && a.installedUserBefore(pid, none) == none && !slices.Contains(freed, pid) {
				freed = append(freed, pid)
			}
		}
	}
	a.buf, a.join = rm, freed
	return rm, freed, true
}

// fastInserts returns the transaction's new debugpoints in rank order;
// it reports false for one that replaces another.
func (a *Arbiter[O, K, P]) fastInserts() ([]int32, bool) {
	fresh := a.cand[:0]
	for _, id := range a.freshList {
		n := &a.nodes[id]
		if !n.is(flagLive) || !n.is(flagFresh) || n.touch == a.gen {
			continue // gone, or listed twice (its index was reused)
		}
		n.touch = a.gen
		if n.base != none {
			return nil, false
		}
		fresh = append(fresh, id)
	}
	slices.SortFunc(fresh, a.cmpRank)
	a.cand = fresh
	return fresh, true
}

// fastAdmit decides each insert, in rank order, against the slots the
// removals leave: admitted (n.admit) when its pieces not in the slots
// fit in the free ones, else refused at its turn; it reports false when
// neither rule decides one.
func (a *Arbiter[O, K, P]) fastAdmit(fresh, freed []int32, after func(int32) bool) bool {
	usable := a.usable.Len()
	free := len(freed) // they still hold their slots
	for s, pid := range a.slots {
		if pid == none && a.usable.Has(Slot(s)) {
			free++
		}
	}
	// A piece is in the slots when it holds one and is not freed, or
	// when an insert before took it (marked with the commit's gen; a
	// freed piece taken again keeps its slot, as in the full plan).
	inSlots := func(pid int32) bool {
		pe := &a.pieces[pid]
		return pe.inS == a.gen || pe.slot != none && !slices.Contains(freed, pid)
	}
	for _, id := range fresh {
		n := &a.nodes[id]
		extra := 0
		for _, pid := range n.pids {
			if !inSlots(pid) {
				extra++
			}
		}
		if extra <= free {
			for _, pid := range n.pids {
				if pe := &a.pieces[pid]; !inSlots(pid) {
					pe.inS = a.gen
					pe.adder = id
				}
			}
			free -= extra
			n.admit = a.gen
			continue
		}
		if !after(id) && !a.refusedAtTurn(id, usable, inSlots, fresh) {
			return false
		}
	}
	return true
}

// applyFastRemovals applies the removals (their events, in install
// order) and frees the slots of the pieces they leave, unless an insert
// took the piece again.
func (a *Arbiter[O, K, P]) applyFastRemovals(rm, freed []int32) {
	for _, id := range rm {
		n := &a.nodes[id]
		if n.state != Installed {
			continue
		}
		a.dropInst(id)
		for _, pid := range n.pids {
			if pe := &a.pieces[pid]; pe.adder == id {
				pe.adder = none
			}
		}
	}
	a.removeFlagged()
	for _, pid := range freed {
		if pe := &a.pieces[pid]; pe.inS != a.gen {
			a.slots[pe.slot] = none
			a.changed |= 1 << pe.slot
			pe.slot = none
		}
	}
}

// applyFastInserts installs the admitted inserts and gives the others
// their policy's state (Refused ones are forgotten), each with its
// event.
func (a *Arbiter[O, K, P]) applyFastInserts(fresh []int32) {
	for _, id := range fresh {
		n := &a.nodes[id]
		ow := &a.owners[n.owner]
		ns := Installed
		if n.admit == a.gen {
			for _, pid := range n.pids {
				if pe := &a.pieces[pid]; pe.slot == none {
					a.assignFree(pid)
				}
			}
			n.ipos = int32(len(a.inst))
			a.inst = append(a.inst, id)
		} else {
			ns = pending(ow.next, true)
		}
		a.events = append(a.events, Event[O, K]{Owner: ow.o, Key: n.key, Priority: ow.next.Priority, Old: Absent, New: ns, Cause: CauseInserted})
		a.setState(n, ns)
		n.flags &^= flagFresh
		if ns == Refused {
			delete(a.index, ident[O, K]{ow.o, n.key})
			a.freeNode(id)
		}
	}
	a.freshList = a.freshList[:0]
	a.nFresh = 0
}

// addedNothing says whether installed node id found each of its pieces in
// the slots at its turn: the piece's adder, or another installed user not
// being removed, ranks before it.
func (a *Arbiter[O, K, P]) addedNothing(id int32) bool {
	for _, pid := range a.nodes[id].pids {
		if ad := a.pieces[pid].adder; a.validAdder(ad) && ad != id && a.cmpRank(ad, id) < 0 {
			continue
		}
		if a.installedUserBefore(pid, id) == none {
			return false
		}
	}
	return true
}

// validAdder says whether ad names a debugpoint that adds its pieces in
// the plan being made: live, and not being removed.
func (a *Arbiter[O, K, P]) validAdder(ad int32) bool {
	return ad != none && a.nodes[ad].is(flagLive) && !a.nodes[ad].is(flagRemoving)
}

// refusedAtTurn says whether fresh node id needs more new slots at its
// turn than were free then. The pieces in the slots at its turn are
// those inSlots says are in whose adder ranks before it: in a slot, or
// taken by an insert before it (of fresh, admitted in this gen).
func (a *Arbiter[O, K, P]) refusedAtTurn(id int32, usable int, inSlots func(int32) bool, fresh []int32) bool {
	atTurn := func(pid int32) bool {
		ad := a.pieces[pid].adder
		return inSlots(pid) && a.validAdder(ad) && a.cmpRank(ad, id) < 0
	}
	before := 0
	for _, pid := range a.slots {
		if pid != none && atTurn(pid) {
			before++
		}
	}
	for _, f := range fresh {
		if f == id {
			break
		}
		if a.nodes[f].admit != a.gen {
			continue
		}
		for _, pid := range a.nodes[f].pids {
			if pe := &a.pieces[pid]; pe.slot == none && pe.adder == f {
				before++
			}
		}
	}
	extra := 0
	for _, pid := range a.nodes[id].pids {
		if !atTurn(pid) {
			extra++
		}
	}
	return extra > usable-before
}

// lastCommitted returns the committed debugpoint, not staged for removal,
// that ranks last (none when there is none), and whether it is known: it
// is not when every owner with such debugpoints is pinned, whose tiers
// depend on their states.
func (a *Arbiter[O, K, P]) lastCommitted() (int32, bool) {
	for i := len(a.ownerOrder) - 1; i >= 0; {
		c := a.owners[a.ownerOrder[i]].next
		j := i
		for j > 0 {
			cj := a.owners[a.ownerOrder[j-1]].next
			if cj.Pinned != c.Pinned || cj.Priority != c.Priority {
				break
			}
			j--
		}
		best := int32(none)
		for _, oi := range a.ownerOrder[j : i+1] {
			for id := a.owners[oi].tail; id != none; id = a.nodes[id].prev {
				if n := &a.nodes[id]; !n.is(flagFresh) && !n.is(flagRemoving) {
					if best == none || n.seq > a.nodes[best].seq {
						best = id
					}
					break
				}
			}
		}
		if best != none {
			return best, !c.Pinned
		}
		i = j - 1
	}
	return none, true
}

// installedUserBefore returns an installed debugpoint, not being removed,
// that uses piece pid and ranks before node id (any rank when id is
// none), or none.
func (a *Arbiter[O, K, P]) installedUserBefore(pid, id int32) int32 {
	for _, uid := range a.pieces[pid].users {
		if n := &a.nodes[uid]; n.state == Installed && !n.is(flagRemoving) && !n.is(flagFresh) && (id == none || a.cmpRank(uid, id) < 0) {
			return uid
		}
	}
	return none
}

// assignFree gives piece pid the lowest free usable slot.
func (a *Arbiter[O, K, P]) assignFree(pid int32) {
	for s := range a.slots {
		if a.slots[s] == none && a.usable.Has(Slot(s)) {
			a.slots[s] = pid
			a.pieces[pid].slot = int32(s)
			a.changed |= 1 << s
			return
		}
	}
}

// dropInst takes an installed node out of a.inst.
func (a *Arbiter[O, K, P]) dropInst(id int32) {
	i := a.nodes[id].ipos
	last := a.inst[len(a.inst)-1]
	a.inst[i] = last
	a.nodes[last].ipos = i
	a.inst = a.inst[:len(a.inst)-1]
}
