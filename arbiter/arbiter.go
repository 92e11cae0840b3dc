package arbiter

import "fmt"

// none is the null index of nodes, pieces, owners and slots.
const none = -1

// Node flags.
const (
	flagLive      uint8 = 1 << iota // in use (not on the free list)
	flagFresh                       // inserted in the open transaction, not committed yet
	flagRemoving                    // committed, and removed in the open transaction
	flagInRemList                   // listed in remList
)

// ident is a debugpoint's identity: its owner and the owner's key.
type ident[O, K comparable] struct {
	o O
	k K
}

// node is one debugpoint, committed or fresh.
type node[K comparable] struct {
	key   K
	owner int32
	seq   uint64 // install order
	hits  uint64
	// pids are the debugpoint's pieces, distinct, in the caller's order;
	// upos[i] is this node's index in pieces[pids[i]].users.
	pids, upos []int32
	state      State // as of the last commit; Absent while fresh
	ipos       int32 // index in Arbiter.inst while installed
	flags      uint8
	// A committed node whose owner inserted a different debugpoint under
	// the same key in the open transaction is flagRemoving, and repl is
	// the fresh node that replaces it (whose base points back). Only the
	// committed node is in Arbiter.index.
	repl, base int32
	prev, next int32 // the owner's list, in install order; next also links the free list

	// Marks of the commit in progress (Arbiter.gen).
	visit, admit, touch uint64
	planned             State
}

func (n *node[K]) is(f uint8) bool { return n.flags&f != 0 }

// pieceEntry is one distinct piece and the debugpoints that use it.
type pieceEntry[P comparable] struct {
	p     P
	users []int32 // live nodes with this piece
	slot  int32   // none when the piece holds no slot
	adder int32   // while in a slot: the node that brought it in (fast.go), or none
	inS   uint64  // Arbiter.gen: in the planned set of installed pieces
	live  bool
}

// owner is one owner and its debugpoints.
type owner[O comparable] struct {
	o          O
	cur, next  OwnerConfig // as of the last commit; as staged
	head, tail int32       // its nodes, in install order
	live       bool
	leaving    bool
}

// Arbiter shares NumSlots physical slots among the debugpoints of several
// owners. O names an owner (a client), K a debugpoint within its owner (the
// caller's value: kind, address, length), P a piece (what one slot
// watches). See the package documentation for the rules.
//
// Insert, Remove, Leave, SetOwner, SetCapacity and SetSlotUsable stage
// their change; Commit applies all of them at once and returns the
// events. Queries answer as of the last commit; Hit counts at once.
//
// An Arbiter is a plain data structure with no locks: all its fields are
// owned by one goroutine, the server's core loop.
type Arbiter[O, K, P comparable] struct {
	// Immutable after New.
	numSlots int

	// Owned by the goroutine that calls the methods: the server's core
	// loop. No locks; a second goroutine is a bug.

	usable     SlotSet // as of the last commit
	nextUsable SlotSet // as staged
	slots      []int32 // piece index per slot, none when vacant
	changed    SlotSet // slots whose piece changed at the last commit

	owners     []owner[O]
	ownerIdx   map[O]int32
	freeOwners []int32
	ownerOrder []int32 // live owners by pinned, then priority, descending
	orderStale bool

	nodes     []node[K]
	freeNodes int32
	index     map[ident[O, K]]int32

	pieces     []pieceEntry[P]
	pieceIdx   map[P]int32
	freePieces []int32

	inst        []int32 // nodes installed as of the last commit
	nWaiting    int     // committed nodes emulated or suspended
	fastCommits uint64  // commits fastCommit applied (tests)
	seq         uint64  // next install order
	gen         uint64  // current commit, for node and piece marks

	// The open transaction.
	remList    []int32 // committed nodes flagged for removal (maybe unflagged since)
	nRemoving  int     // nodes with flagRemoving
	freshList  []int32 // fresh nodes (maybe freed since)
	nFresh     int     // nodes with flagFresh
	cfgChanged bool    // some owner's staged config differs
	nLeaving   int     // owners leaving

	// Scratch of Commit, kept to allocate nothing in steady state.
	events    []Event[O, K]
	adm       []int32 // nodes admitted by the plan
	join      []int32 // pieces in the order they joined the plan
	buf, cand []int32
	cursors   []int32
	orphans   []int32 // pieces left without users in a slot
	oldSlots  []int32
	leftFreed bool // an owner that left held a slot
	scratchP  []P
}

// New returns an arbiter of numSlots slots, all usable, with no owners.
// numSlots is at most MaxSlots; New panics otherwise (a wiring mistake,
// not input).
func New[O, K, P comparable](numSlots int) *Arbiter[O, K, P] {
	if numSlots < 0 || numSlots > MaxSlots {
		panic(fmt.Sprintf("arbiter: %d slots: want 0..%d", numSlots, MaxSlots))
	}
	a := &Arbiter[O, K, P]{
		numSlots:   numSlots,
		usable:     firstSlots(numSlots),
		nextUsable: firstSlots(numSlots),
		slots:      make([]int32, numSlots),
		oldSlots:   make([]int32, numSlots),
		ownerIdx:   make(map[O]int32),
		index:      make(map[ident[O, K]]int32),
		pieceIdx:   make(map[P]int32),
		freeNodes:  none,
	}
	for i := range a.slots {
		a.slots[i] = none
	}
	return a
}

// NumSlots returns the number of physical slots, usable or not.
func (a *Arbiter[O, K, P]) NumSlots() int { return a.numSlots }

// Capacity returns the number of usable slots as of the last commit.
func (a *Arbiter[O, K, P]) Capacity() int { return a.usable.Len() }

// Usable returns the usable slots as of the last commit.
func (a *Arbiter[O, K, P]) Usable() SlotSet { return a.usable }

// Insert stages a debugpoint of owner o, named k within its owner, made of
// pieces (duplicates count once; identical pieces of different debugpoints
// share a slot). An owner not seen before is added with the zero
// OwnerConfig (priority 0, PolicyEmulate, not pinned).
//
// Inserting what the last commit holds under the same (o, k) with the same
// set of pieces is no change: after a Remove in the same transaction it
// cancels the Remove (gdb's z then Z at every stop), so the debugpoint
// keeps its install order, state and slots, and no event is emitted.
// Inserting different pieces under an existing (o, k) replaces the
// debugpoint with a new one. A new debugpoint's install order is the order
// of its Insert call.
//
// Insert copies pieces; it returns ErrNoPieces when there are none.
func (a *Arbiter[O, K, P]) Insert(o O, k K, pieces ...P) error {
	if len(pieces) == 0 {
		return fmt.Errorf("insert: %w", ErrNoPieces)
	}
	ps := a.dedupe(pieces)
	id := ident[O, K]{o, k}
	b, ok := a.index[id]
	if !ok {
		oi := a.ownerFor(o)
		a.index[id] = a.newNode(oi, k, ps, none)
		return nil
	}
	n := &a.nodes[b]
	a.unleave(n.owner)
	if n.is(flagFresh) {
		if a.samePieces(n, ps) {
			return nil
		}
		oi := n.owner
		a.freeNode(b)
		a.index[id] = a.newNode(oi, k, ps, none)
		return nil
	}
	// n is committed.
	if a.samePieces(n, ps) {
		if n.repl != none {
			a.freeNode(n.repl)
			a.nodes[b].repl = none
		}
		a.unflagRemoving(b)
		return nil
	}
	if n.repl != none {
		if a.samePieces(&a.nodes[n.repl], ps) {
			return nil
		}
		a.freeNode(n.repl)
		a.nodes[b].repl = none
	}
	a.flagRemoving(b)
	r := a.newNode(a.nodes[b].owner, k, ps, b)
	a.nodes[b].repl = r
	return nil
}

// Remove stages the removal of owner o's debugpoint k. Removing a
// debugpoint inserted in the same transaction forgets it (no event). It
// reports whether the debugpoint was there to remove.
func (a *Arbiter[O, K, P]) Remove(o O, k K) bool {
	id := ident[O, K]{o, k}
	b, ok := a.index[id]
	if !ok {
		return false
	}
	n := &a.nodes[b]
	if n.is(flagFresh) {
		a.freeNode(b)
		delete(a.index, id)
		return true
	}
	had := !n.is(flagRemoving)
	if n.repl != none {
		a.freeNode(n.repl)
		a.nodes[b].repl = none
		had = true
	}
	a.flagRemoving(b)
	return had
}

// Leave stages the departure of owner o (its client disconnected or
// detached): all its debugpoints go at the commit, and the owner is
// forgotten. An Insert or SetOwner for o later in the same transaction
// cancels the departure (not the removals).
func (a *Arbiter[O, K, P]) Leave(o O) {
	oi, ok := a.ownerIdx[o]
	if !ok {
		return
	}
	ow := &a.owners[oi]
	if !ow.leaving {
		ow.leaving = true
		a.nLeaving++
	}
	for id := ow.head; id != none; {
		n := &a.nodes[id]
		next := n.next
		switch {
		case n.is(flagFresh) && n.base != none:
			a.nodes[n.base].repl = none
			a.freeNode(id)
		case n.is(flagFresh):
			delete(a.index, ident[O, K]{o, n.key})
			a.freeNode(id)
		default:
			a.flagRemoving(id)
		}
		id = next
	}
}

// SetOwner stages owner o's configuration, adding the owner if it is new.
// The commit re-plans: a raised priority may evict others' debugpoints, a
// lowered one may lose slots, a new policy turns emulated debugpoints into
// suspended ones or back. It returns an error wrapping ErrUnknownPolicy
// for a policy that is not one of the constants.
func (a *Arbiter[O, K, P]) SetOwner(o O, c OwnerConfig) error {
	if !c.Policy.valid() {
		return fmt.Errorf("owner config: %w", ErrUnknownPolicy)
	}
	oi, ok := a.ownerIdx[o]
	if !ok {
		oi = a.newOwner(o, c)
	}
	a.unleave(oi)
	ow := &a.owners[oi]
	if ow.next != c {
		ow.next = c
		a.cfgChanged = true
		a.orderStale = true
	}
	return nil
}

// Owner returns owner o's configuration as staged, and whether the owner
// is known.
func (a *Arbiter[O, K, P]) Owner(o O) (OwnerConfig, bool) {
	oi, ok := a.ownerIdx[o]
	if !ok {
		return OwnerConfig{}, false
	}
	return a.owners[oi].next, true
}

// SetCapacity stages the number of usable slots: slots 0 to n-1 become
// usable, the others not. It returns an error wrapping ErrSlotRange unless
// 0 <= n <= NumSlots.
func (a *Arbiter[O, K, P]) SetCapacity(n int) error {
	if n < 0 || n > a.numSlots {
		return fmt.Errorf("capacity %d of %d slots: %w", n, a.numSlots, ErrSlotRange)
	}
	a.nextUsable = firstSlots(n)
	return nil
}

// SetSlotUsable stages whether slot s may hold a piece. The server marks a
// slot unusable when the kernel refuses it (ENOSPC: another perf user
// took it), and usable again when it wants to retry. It returns an error
// wrapping ErrSlotRange for a slot outside 0..NumSlots-1.
func (a *Arbiter[O, K, P]) SetSlotUsable(s Slot, usable bool) error {
	if s < 0 || int(s) >= a.numSlots {
		return fmt.Errorf("slot %d of %d: %w", s, a.numSlots, ErrSlotRange)
	}
	if usable {
		a.nextUsable |= 1 << s
	} else {
		a.nextUsable &^= 1 << s
	}
	return nil
}

// dedupe returns pieces without repeats, in a buffer reused by the next
// call.
func (a *Arbiter[O, K, P]) dedupe(pieces []P) []P {
	ps := a.scratchP[:0]
next:
	for _, p := range pieces {
		for _, q := range ps {
			if p == q {
				continue next
			}
		}
		ps = append(ps, p)
	}
	a.scratchP = ps
	return ps
}

// samePieces reports whether n's pieces are exactly the distinct pieces ps.
func (a *Arbiter[O, K, P]) samePieces(n *node[K], ps []P) bool {
	if len(ps) != len(n.pids) {
		return false
	}
next:
	for _, p := range ps {
		for _, pid := range n.pids {
			if a.pieces[pid].p == p {
				continue next
			}
		}
		return false
	}
	return true
}

func (a *Arbiter[O, K, P]) flagRemoving(id int32) {
	n := &a.nodes[id]
	if !n.is(flagRemoving) {
		n.flags |= flagRemoving
		a.nRemoving++
	}
	if !n.is(flagInRemList) {
		n.flags |= flagInRemList
		a.remList = append(a.remList, id)
	}
}

func (a *Arbiter[O, K, P]) unflagRemoving(id int32) {
	n := &a.nodes[id]
	if n.is(flagRemoving) {
		n.flags &^= flagRemoving
		a.nRemoving--
	}
}

func (a *Arbiter[O, K, P]) unleave(oi int32) {
	if ow := &a.owners[oi]; ow.leaving {
		ow.leaving = false
		a.nLeaving--
	}
}

// ownerFor returns o's index, adding o with the zero config if it is new,
// and cancels its departure.
func (a *Arbiter[O, K, P]) ownerFor(o O) int32 {
	oi, ok := a.ownerIdx[o]
	if !ok {
		return a.newOwner(o, OwnerConfig{})
	}
	a.unleave(oi)
	return oi
}

func (a *Arbiter[O, K, P]) newOwner(o O, c OwnerConfig) int32 {
	var oi int32
	if n := len(a.freeOwners); n > 0 {
		oi = a.freeOwners[n-1]
		a.freeOwners = a.freeOwners[:n-1]
	} else {
		oi = int32(len(a.owners))
		a.owners = append(a.owners, owner[O]{})
	}
	// cur is c too: a new owner has no committed debugpoints for a change
	// of config to affect.
	a.owners[oi] = owner[O]{o: o, cur: c, next: c, head: none, tail: none, live: true}
	a.ownerIdx[o] = oi
	a.orderStale = true
	return oi
}

func (a *Arbiter[O, K, P]) deleteOwner(oi int32) {
	ow := &a.owners[oi]
	delete(a.ownerIdx, ow.o)
	*ow = owner[O]{head: none, tail: none}
	a.freeOwners = append(a.freeOwners, oi)
	a.orderStale = true
}

// newNode adds a fresh debugpoint with the distinct pieces ps at the end of
// its owner's list and returns its index. base is the committed node it
// replaces, or none.
func (a *Arbiter[O, K, P]) newNode(oi int32, k K, ps []P, base int32) int32 {
	id := a.freeNodes
	if id != none {
		a.freeNodes = a.nodes[id].next
	} else {
		id = int32(len(a.nodes))
		a.nodes = append(a.nodes, node[K]{})
	}
	pids := a.nodes[id].pids[:0]
	for _, p := range ps {
		pids = append(pids, a.pieceFor(p))
	}
	upos := a.nodes[id].upos[:0]
	for _, pid := range pids {
		pe := &a.pieces[pid]
		upos = append(upos, int32(len(pe.users)))
		pe.users = append(pe.users, id)
	}
	ow := &a.owners[oi]
	a.nodes[id] = node[K]{
		key: k, owner: oi, seq: a.seq, pids: pids, upos: upos,
		flags: flagLive | flagFresh, repl: none, base: base,
		prev: ow.tail, next: none,
	}
	a.seq++
	if ow.tail != none {
		a.nodes[ow.tail].next = id
	} else {
		ow.head = id
	}
	ow.tail = id
	a.freshList = append(a.freshList, id)
	a.nFresh++
	return id
}

// freeNode unlinks a node from its pieces and its owner and frees it. It
// does not touch index, repl or base. A piece left without users is freed,
// unless it holds a slot (only during a commit): it is then kept in
// orphans until the slots are reassigned.
func (a *Arbiter[O, K, P]) freeNode(id int32) {
	n := &a.nodes[id]
	for i, pid := range n.pids {
		pe := &a.pieces[pid]
		pos := n.upos[i]
		last := pe.users[len(pe.users)-1]
		pe.users[pos] = last
		pe.users = pe.users[:len(pe.users)-1]
		if last != id {
			m := &a.nodes[last]
			for j, q := range m.pids {
				if q == pid {
					m.upos[j] = pos
					break
				}
			}
		}
		if len(pe.users) == 0 {
			if pe.slot == none {
				a.freePiece(pid)
			} else {
				a.orphans = append(a.orphans, pid)
			}
		}
	}
	ow := &a.owners[n.owner]
	if n.prev != none {
		a.nodes[n.prev].next = n.next
	} else {
		ow.head = n.next
	}
	if n.next != none {
		a.nodes[n.next].prev = n.prev
	} else {
		ow.tail = n.prev
	}
	if n.is(flagFresh) {
		a.nFresh--
	}
	if n.is(flagRemoving) {
		a.nRemoving--
	}
	// Keep the slices' arrays for the next node.
	*n = node[K]{pids: n.pids[:0], upos: n.upos[:0], next: a.freeNodes, prev: none, repl: none, base: none}
	a.freeNodes = id
}

func (a *Arbiter[O, K, P]) pieceFor(p P) int32 {
	if pid, ok := a.pieceIdx[p]; ok {
		return pid
	}
	var pid int32
	if n := len(a.freePieces); n > 0 {
		pid = a.freePieces[n-1]
		a.freePieces = a.freePieces[:n-1]
	} else {
		pid = int32(len(a.pieces))
		a.pieces = append(a.pieces, pieceEntry[P]{})
	}
	pe := &a.pieces[pid]
	pe.p, pe.slot, pe.inS, pe.live, pe.adder = p, none, 0, true, none
	pe.users = pe.users[:0]
	a.pieceIdx[p] = pid
	return pid
}

func (a *Arbiter[O, K, P]) freePiece(pid int32) {
	pe := &a.pieces[pid]
	delete(a.pieceIdx, pe.p)
	var zero P
	pe.p, pe.live, pe.slot = zero, false, none
	a.freePieces = append(a.freePieces, pid)
}
