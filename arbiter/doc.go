// Package arbiter shares a few physical slots among the debugpoints of
// several owners, by priority. It is the allocation half of the idea in
// the 2007 kwatch thread (shared/seeds): callers register debugpoints with
// a priority; the core decides which hold the slots, moves them between
// slots at will, and tells each owner when its debugpoint is installed,
// uninstalled or triggered.
//
// # What it must not know
//
// The package is architecture-free and imports none of the project's
// packages. A piece is an opaque comparable value (the server uses
// hwbp.Piece); a debugpoint is named by its owner (the server's client id)
// and a key of the caller's choosing (hwbp.Request: kind, address,
// length), both comparable. Slots are indexes 0..NumSlots-1 of the
// arbiter's own Slot type; turning them into debug registers is hwbp's
// business.
//
// # Who owns its state
//
// An Arbiter is a plain data structure with no locks and no goroutines.
// The server's core loop owns it: only that goroutine calls its methods.
//
// # Terms
//
//   - debugpoint: what an owner asked for under one (owner, key), made of
//     one or more pieces. Its priority, policy and pinning are its
//     owner's (OwnerConfig), changed at run time with SetOwner.
//   - piece: what one slot watches. Identical pieces of any debugpoints
//     share one slot, counted by their users.
//   - installed (the seeds' term): State Installed, all pieces in slots.
//     A debugpoint is all-or-nothing: all its pieces hold slots, or none.
//   - uninstalled: an event with Change ChangeEvicted; the debugpoint is
//     then Emulated or Suspended by its owner's Policy.
//   - reinstalled: ChangeReinstalled, back in hardware.
//   - triggered: Hit(slot) or HitDebugpoint counts it; Holders(slot) and
//     PieceHolders(piece) name the debugpoints (so the owners) to tell,
//     all of them when a slot is shared.
//
// # The rule
//
// After every commit the installed set is exactly what this greedy
// computation gives (the tests keep it as the reference model): order all
// debugpoints by rank, then admit each one whose pieces, added to the
// pieces already admitted, fit in the usable slots. The rank is
//
//  1. tier: pinned debugpoints that held slots before the commit, then
//     the other pinned ones, then the rest;
//  2. priority, higher first;
//  3. install order (the order of Insert calls), earlier first.
//
// So a higher priority wins; at equal priority the first come keeps its
// slot and the most recently installed is evicted first; the lowest
// priority is evicted first. Pinned debugpoints are never evicted by
// another debugpoint, only by a shrinking capacity, and a new pinned
// debugpoint that cannot fit is Refused. The McGrath guarantee follows: a
// debugpoint without a slot could not have one even if every installed
// debugpoint ranked after it were evicted, so a request of the top
// priority fails only for want of room among equals (or pinned ones),
// never while a lower priority holds a slot. A wide debugpoint that does
// not fit does not block a narrower one ranked after it.
//
// A debugpoint without a slot follows its owner's policy: PolicyEmulate
// gives Emulated, PolicySuspend gives Suspended, PolicyError refuses a new
// debugpoint (Refused: not kept; the server answers E01 as gdbserver does)
// and suspends one that was already accepted.
//
// A piece that stays keeps its slot, so the server writes no debug
// register for it; others take the lowest free usable slot. Capacity is
// the set of usable slots (SetCapacity, SetSlotUsable: the kernel said
// ENOSPC, or the slot is back); the commit re-plans around it.
// ChangedSlots says which slots to rewrite.
//
// # Transactions
//
// Every method that changes the table (Insert, Remove, Leave, SetOwner,
// SetCapacity, SetSlotUsable) only stages it; Commit applies all at once. gdb removes every point at each stop and inserts them again
// before resuming: a Remove and an Insert of the same (owner, key) with
// the same set of pieces cancel out, and the debugpoint keeps its install
// order, slots and state. Such a commit emits nothing and allocates
// nothing. Different pieces under the same key replace the debugpoint
// (a removal event, then the new one's). Leave removes all of an owner's
// debugpoints and forgets the owner. Inserting what is already there is
// no change either, so a server may also hold a client's z packets itself
// until it resumes and drop those an identical Z cancels.
//
// Under PolicyError the answer to a Z packet (OK or E01) is known only at
// a commit. A server that must answer at once can, on a new Z of such an
// owner, stage the Removes that owner's earlier z packets asked for, the
// Insert, and Commit: that owner then sees exactly gdbserver's behaviour
// (a z frees its slot at once), while other owners' pending changes wait
// for their own commit if the server holds their z packets as above.
//
// # Events
//
// Commit returns one Event per debugpoint whose state changed (Old and
// New), and none for the others: a debugpoint moved to another slot, or
// evicted and reinstalled within the commit, has not changed. Removed
// debugpoints come first, in install order; the rest follow in rank
// order. The Cause is, by the first rule that applies:
//
//   - new debugpoint: CauseInserted; gone: CauseRemoved or CauseOwnerLeft;
//   - evicted: CauseEvicted, By naming the first-ranked newcomer (a
//     debugpoint installed by this commit) when it ranks before the
//     evicted one, else CauseCapacityShrank. One of the two always holds:
//     if the capacity did not shrink and no newcomer ranks before it, the
//     debugpoints ranked before it were all installed beside it already.
//   - reinstalled: CausePinned or CausePriorityRaised (its own owner's
//     change), CauseOwnerLeft (an owner that held a slot left),
//     CauseCapacityGrew, else CauseSlotFreed;
//   - emulated and suspended in turn: CausePolicyChanged.
//
// # Cost
//
// The rank order is kept incrementally: each owner keeps its debugpoints
// in install order, owners are sorted by pinning and priority (a few), and
// the walk merges equal owners by install order. A commit walks the rank
// order only until the slots are full, then finds the debugpoints whose
// pieces are all installed through the pieces' users; it visits the
// installed debugpoints, the new ones and those that change, not the
// others. So a commit of one insert or remove costs about the same beside
// ten debugpoints or ten thousand, and gdb's stop (every point removed
// and inserted again, then a commit) allocates nothing
// (TestChurnAllocatesNothing). An Insert of a new debugpoint allocates
// only when the arbiter's tables grow.
//
// Where the slots can never fill the walk cannot stop early: n
// debugpoints sharing one piece (all installed), or a 3-piece debugpoint
// on top and n 2-piece ones below that cannot use the last slot. A
// commit of inserts and removes that cannot move another debugpoint is
// then applied without a walk (fast.go, which gives the rules): an
// insert that fits in the free slots or is refused at its turn, the
// removal of a debugpoint that waits, that added no piece, that ranks
// last, or beside only installed ones (TestDegenerateCommitsAreFast:
// no walk, no allocation). What still walks all n: a change of an
// owner's priority, policy or pinning, or of the capacity, and the
// removal from such a table of an installed debugpoint ranked before
// waiting ones (the slot it frees might let one of them in): these cost
// the walk, as all such commits did before. Debuggers do not set
// thousands of debugpoints on one address.
//
// The figures (BenchmarkCommit, BenchmarkChurn, BenchmarkDegenerate, with
// the commands that produce them and the figures before the fast commit)
// are in bench/RESULTS.md, section "arbiter".
package arbiter
