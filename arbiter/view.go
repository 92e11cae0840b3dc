package arbiter

import "iter"

// The queries below answer as of the last commit: staged changes are not
// visible until Commit.

// Lookup returns owner o's debugpoint k.
func (a *Arbiter[O, K, P]) Lookup(o O, k K) (Info[O, K], bool) {
	id, ok := a.index[ident[O, K]{o, k}]
	if !ok || a.nodes[id].is(flagFresh) {
		return Info[O, K]{}, false
	}
	return a.info(id), true
}

func (a *Arbiter[O, K, P]) info(id int32) Info[O, K] {
	n := &a.nodes[id]
	ow := &a.owners[n.owner]
	return Info[O, K]{
		Owner: ow.o, Key: n.key, State: n.state,
		Priority: ow.cur.Priority, Pinned: ow.cur.Pinned,
		Order: n.seq, Hits: n.hits,
	}
}

// committed reports whether node id is part of the last commit.
func (a *Arbiter[O, K, P]) committed(id int32) bool {
	n := &a.nodes[id]
	return n.is(flagLive) && !n.is(flagFresh)
}

// Owners yields each owner and its configuration as staged, in a fixed
// order (for `monitor clients`).
func (a *Arbiter[O, K, P]) Owners() iter.Seq2[O, OwnerConfig] {
	return func(yield func(O, OwnerConfig) bool) {
		for i := range a.owners {
			if ow := &a.owners[i]; ow.live && !yield(ow.o, ow.next) {
				return
			}
		}
	}
}

// Debugpoints yields owner o's debugpoints in install order.
func (a *Arbiter[O, K, P]) Debugpoints(o O) iter.Seq[Info[O, K]] {
	return func(yield func(Info[O, K]) bool) {
		oi, ok := a.ownerIdx[o]
		if !ok {
			return
		}
		for id := a.owners[oi].head; id != none; id = a.nodes[id].next {
			if a.committed(id) && !yield(a.info(id)) {
				return
			}
		}
	}
}

// Slots yields each slot that holds a piece, and the piece, in slot order.
func (a *Arbiter[O, K, P]) Slots() iter.Seq2[Slot, P] {
	return func(yield func(Slot, P) bool) {
		for s, pid := range a.slots {
			if pid != none && !yield(Slot(s), a.pieces[pid].p) {
				return
			}
		}
	}
}

// SlotPiece returns the piece in slot s, and false for a vacant slot.
func (a *Arbiter[O, K, P]) SlotPiece(s Slot) (P, bool) {
	if s < 0 || int(s) >= len(a.slots) || a.slots[s] == none {
		var zero P
		return zero, false
	}
	return a.pieces[a.slots[s]].p, true
}

// Holders yields the installed debugpoints whose pieces include the one in
// slot s: the owners to tell of a hit on it (all of them when the slot is
// shared).
func (a *Arbiter[O, K, P]) Holders(s Slot) iter.Seq[Info[O, K]] {
	return func(yield func(Info[O, K]) bool) {
		if s < 0 || int(s) >= len(a.slots) || a.slots[s] == none {
			return
		}
		a.holders(a.slots[s], yield)
	}
}

// PieceHolders yields the installed debugpoints whose pieces include p.
func (a *Arbiter[O, K, P]) PieceHolders(p P) iter.Seq[Info[O, K]] {
	return func(yield func(Info[O, K]) bool) {
		if pid, ok := a.pieceIdx[p]; ok {
			a.holders(pid, yield)
		}
	}
}

func (a *Arbiter[O, K, P]) holders(pid int32, yield func(Info[O, K]) bool) {
	for _, id := range a.pieces[pid].users {
		if a.committed(id) && a.nodes[id].state == Installed && !yield(a.info(id)) {
			return
		}
	}
}

// Hit records a trigger of slot s (the seeds' "triggered"): each installed
// debugpoint holding its piece counts one hit. It returns how many did.
func (a *Arbiter[O, K, P]) Hit(s Slot) int {
	if s < 0 || int(s) >= len(a.slots) || a.slots[s] == none {
		return 0
	}
	count := 0
	for _, id := range a.pieces[a.slots[s]].users {
		if n := &a.nodes[id]; a.committed(id) && n.state == Installed {
			n.hits++
			count++
		}
	}
	return count
}

// HitDebugpoint records a trigger of owner o's debugpoint k, such as one
// seen by software emulation. It reports whether the debugpoint exists.
func (a *Arbiter[O, K, P]) HitDebugpoint(o O, k K) bool {
	id, ok := a.index[ident[O, K]{o, k}]
	if !ok || !a.committed(id) {
		return false
	}
	a.nodes[id].hits++
	return true
}
