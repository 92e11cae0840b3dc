package arbiter

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// Small domains, so that debugpoints share pieces, owners tie on
// priority, and the slots fill.
const (
	genOwners   = 4
	genKeys     = 5
	genPieces   = 7
	genMaxPrio  = 3
	genMaxWidth = 3
)

// genOp draws one operation, weighted towards inserts, removes and
// commits.
func genOp(t *rapid.T, numSlots int) op {
	o := rapid.IntRange(0, genOwners-1).Draw(t, "owner")
	switch w := rapid.IntRange(0, 99).Draw(t, "kind"); {
	case w < 35:
		ps := rapid.SliceOfN(rapid.IntRange(1, genPieces), 1, genMaxWidth).Draw(t, "pieces")
		return op{kind: opInsert, o: o, k: rapid.IntRange(0, genKeys-1).Draw(t, "key"), pieces: ps}
	case w < 55:
		return op{kind: opRemove, o: o, k: rapid.IntRange(0, genKeys-1).Draw(t, "key")}
	case w < 58:
		return op{kind: opLeave, o: o}
	case w < 66:
		return op{kind: opSetOwner, o: o, cfg: OwnerConfig{
			Priority: rapid.IntRange(0, genMaxPrio).Draw(t, "priority"),
			Policy:   Policy(rapid.IntRange(0, 2).Draw(t, "policy")),
			Pinned:   rapid.IntRange(0, 2).Draw(t, "pinned") == 0,
		}}
	case w < 69:
		return op{kind: opSetCapacity, n: rapid.IntRange(0, numSlots).Draw(t, "capacity")}
	case w < 72:
		return op{kind: opSetSlotUsable, n: rapid.IntRange(0, numSlots-1).Draw(t, "slot"), ok: rapid.Bool().Draw(t, "usable")}
	case w < 75:
		return op{kind: opHit, n: rapid.IntRange(0, numSlots-1).Draw(t, "slot")}
	case w < 79:
		return op{kind: opChurn, n: rapid.IntRange(0, 100).Draw(t, "seed")}
	}
	return op{kind: opCommit}
}

// TestModel runs random sequences of operations from several owners on the
// arbiter and on the reference model, and compares assignments, states
// and events after every commit, checking the invariants.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		numSlots := rapid.IntRange(1, 5).Draw(t, "slots")
		h := newHarness(t, numSlots)
		steps := rapid.IntRange(1, 300).Draw(t, "steps")
		for range steps {
			h.do(genOp(t, numSlots))
		}
		h.commit()
		h.churn(0)
	})
}

// TestModelInsertsAndRemoves: owners set up once, then inserts and
// removes committed one or a few at a time, the transactions the fast
// commit (fast.go) serves about half of; the rest take the full plan.
func TestModelInsertsAndRemoves(t *testing.T) {
	var fast, all uint64
	rapid.Check(t, func(t *rapid.T) {
		numSlots := rapid.IntRange(1, 5).Draw(t, "slots")
		h := newHarness(t, numSlots)
		for o := range genOwners {
			h.do(op{kind: opSetOwner, o: o, cfg: OwnerConfig{
				Priority: rapid.IntRange(0, genMaxPrio).Draw(t, "priority"),
				Policy:   Policy(rapid.IntRange(0, 2).Draw(t, "policy")),
				Pinned:   rapid.IntRange(0, 3).Draw(t, "pinned") == 0,
			}})
		}
		h.commit()
		fast0 := h.a.fastCommits
		for range rapid.IntRange(1, 300).Draw(t, "steps") {
			o := rapid.IntRange(0, genOwners-1).Draw(t, "owner")
			k := rapid.IntRange(0, 2*genKeys-1).Draw(t, "key")
			if rapid.IntRange(0, 7).Draw(t, "kind") < 5 {
				ps := rapid.SliceOfN(rapid.IntRange(1, genPieces), 1, genMaxWidth).Draw(t, "pieces")
				h.do(op{kind: opInsert, o: o, k: k, pieces: ps})
			} else {
				h.do(op{kind: opRemove, o: o, k: k})
			}
			if rapid.IntRange(0, 2).Draw(t, "commit") == 0 {
				h.commit()
				all++
			}
		}
		h.commit()
		fast += h.a.fastCommits - fast0
	})
	if fast == 0 {
		t.Errorf("no commit of %d took the fast path", all)
	}
	t.Logf("%d of %d commits took the fast path", fast, all)
}

// TestModelBigTransactions commits rarely, so that one commit sees many
// changes at once.
func TestModelBigTransactions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := newHarness(t, 4)
		for range rapid.IntRange(1, 8).Draw(t, "commits") {
			for range rapid.IntRange(0, 40).Draw(t, "ops") {
				if x := genOp(t, 4); x.kind != opCommit && x.kind != opChurn {
					h.do(x)
				}
			}
			h.commit()
		}
	})
}

// TestDeterminism runs the same operations on two arbiters: the same
// assignment and events, commit by commit.
func TestDeterminism(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x, y := New[int, int, int](4), New[int, int, int](4)
		apply := func(a *Arbiter[int, int, int], o op) []Event[int, int] {
			switch o.kind {
			case opInsert:
				_ = a.Insert(o.o, o.k, o.pieces...)
			case opRemove:
				a.Remove(o.o, o.k)
			case opLeave:
				a.Leave(o.o)
			case opSetOwner:
				_ = a.SetOwner(o.o, o.cfg)
			case opSetCapacity:
				_ = a.SetCapacity(o.n)
			case opSetSlotUsable:
				_ = a.SetSlotUsable(Slot(o.n), o.ok)
			case opCommit, opChurn:
				return slices.Clone(a.Commit())
			}
			return nil
		}
		for range rapid.IntRange(1, 200).Draw(t, "steps") {
			o := genOp(t, 4)
			if ex, ey := apply(x, o), apply(y, o); !reflect.DeepEqual(ex, ey) {
				t.Fatalf("events differ: %v vs %v", ex, ey)
			}
			if !maps.Equal(maps.Collect(x.Slots()), maps.Collect(y.Slots())) {
				t.Fatalf("slots differ")
			}
		}
	})
}
