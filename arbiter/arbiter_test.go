package arbiter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Tests name owners by number, debugpoints by a string, pieces by a string.
type testArbiter = Arbiter[int, string, string]

// step is one operation of a scenario; commit steps list the events they
// expect, formatted by evString.
type step struct {
	do     func(a *testArbiter) error
	commit bool
	want   []string
	slots  string // when set, the table after the commit, as slotsString gives it
}

func ins(o int, k string, ps ...string) step {
	return step{do: func(a *testArbiter) error { return a.Insert(o, k, ps...) }}
}

func rm(o int, k string) step {
	return step{do: func(a *testArbiter) error {
		if !a.Remove(o, k) {
			return fmt.Errorf("remove o%d %s: not there", o, k)
		}
		return nil
	}}
}

func leave(o int) step {
	return step{do: func(a *testArbiter) error { a.Leave(o); return nil }}
}

func setOwner(o, prio int, pol Policy, pinned bool) step {
	return step{do: func(a *testArbiter) error {
		return a.SetOwner(o, OwnerConfig{Priority: prio, Policy: pol, Pinned: pinned})
	}}
}

func capacity(n int) step {
	return step{do: func(a *testArbiter) error { return a.SetCapacity(n) }}
}

func slotUsable(s Slot, ok bool) step {
	return step{do: func(a *testArbiter) error { return a.SetSlotUsable(s, ok) }}
}

func commit(want ...string) step { return step{commit: true, want: want} }

func commitSlots(slots string, want ...string) step {
	return step{commit: true, want: want, slots: slots}
}

// evString formats an event as "o1 w1 installed->emulated (evicted by o2 w9 p20)".
func evString(e Event[int, string]) string {
	s := fmt.Sprintf("o%d %s %v->%v (%v", e.Owner, e.Key, e.Old, e.New, e.Cause)
	if e.Cause == CauseEvicted {
		s += fmt.Sprintf(" by o%d %s p%d", e.By.Owner, e.By.Key, e.By.Priority)
	}
	return s + ")"
}

// slotsString formats the table as "0:a 1:- 2:b".
func slotsString(a *testArbiter) string {
	var parts []string
	for s := range a.NumSlots() {
		p, ok := a.SlotPiece(Slot(s))
		if !ok {
			p = "-"
		}
		parts = append(parts, fmt.Sprintf("%d:%s", s, p))
	}
	return strings.Join(parts, " ")
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name  string
		slots int
		steps []step
	}{
		{"higher priority evicts the most recent of the lowest; removal reinstalls", 2, []step{
			setOwner(1, 10, PolicyEmulate, false), setOwner(2, 20, PolicyEmulate, false),
			ins(1, "w1", "a"), ins(1, "w2", "b"),
			commitSlots("0:a 1:b", "o1 w1 absent->installed (inserted)", "o1 w2 absent->installed (inserted)"),
			ins(2, "w9", "c"),
			commitSlots("0:a 1:c", "o2 w9 absent->installed (inserted)", "o1 w2 installed->emulated (evicted by o2 w9 p20)"),
			rm(2, "w9"),
			commitSlots("0:a 1:b", "o2 w9 installed->absent (removed)", "o1 w2 emulated->installed (slot freed)"),
		}},
		{"equal priority: first come keeps", 1, []step{
			ins(1, "w1", "a"), commit("o1 w1 absent->installed (inserted)"),
			ins(2, "w2", "b"), commit("o2 w2 absent->emulated (inserted)"),
			rm(1, "w1"), commit("o1 w1 installed->absent (removed)", "o2 w2 emulated->installed (slot freed)"),
		}},
		{"the caller's order within a transaction is the install order", 1, []step{
			ins(1, "w2", "b"), ins(1, "w1", "a"),
			commit("o1 w2 absent->installed (inserted)", "o1 w1 absent->emulated (inserted)"),
		}},
		{"identical pieces share one slot", 2, []step{
			ins(1, "w1", "a"), ins(2, "w2", "a"), ins(3, "w3", "b", "a"), ins(4, "w4", "c"),
			commitSlots("0:a 1:b",
				"o1 w1 absent->installed (inserted)", "o2 w2 absent->installed (inserted)",
				"o3 w3 absent->installed (inserted)", "o4 w4 absent->emulated (inserted)"),
		}},
		{"all or nothing: a wide debugpoint waits, a narrow lower one takes the slot", 2, []step{
			setOwner(1, 30, PolicyEmulate, false), setOwner(2, 20, PolicyEmulate, false),
			ins(1, "x", "a"), ins(2, "wide", "b", "c"), ins(3, "narrow", "d"),
			commitSlots("0:a 1:d",
				"o1 x absent->installed (inserted)", "o2 wide absent->emulated (inserted)",
				"o3 narrow absent->installed (inserted)"),
			rm(1, "x"),
			commitSlots("0:b 1:c", "o1 x installed->absent (removed)",
				"o2 wide emulated->installed (slot freed)", "o3 narrow installed->emulated (evicted by o2 wide p20)"),
		}},
		{"pieces stay in their slots; new ones take the lowest free", 4, []step{
			ins(1, "w1", "a"), ins(1, "w2", "b"), ins(1, "w3", "c"), commitSlots("0:a 1:b 2:c 3:-",
				"o1 w1 absent->installed (inserted)", "o1 w2 absent->installed (inserted)", "o1 w3 absent->installed (inserted)"),
			rm(1, "w1"), ins(1, "w4", "d"), ins(1, "w5", "e"),
			commitSlots("0:d 1:b 2:c 3:e", "o1 w1 installed->absent (removed)",
				"o1 w4 absent->installed (inserted)", "o1 w5 absent->installed (inserted)"),
		}},
		{"gdb's churn is no change", 2, []step{
			ins(1, "w1", "a"), ins(1, "w2", "b", "c"), ins(2, "w3", "d"),
			commit("o1 w1 absent->installed (inserted)", "o1 w2 absent->emulated (inserted)", "o2 w3 absent->installed (inserted)"),
			rm(1, "w1"), rm(1, "w2"), ins(1, "w2", "c", "b"), ins(1, "w1", "a"),
			commitSlots("0:a 1:d"),
			// Inserting what is there is no change either.
			ins(2, "w3", "d"), commit(),
		}},
		{"a replaced debugpoint is removed and inserted", 2, []step{
			ins(1, "w1", "a"), commit("o1 w1 absent->installed (inserted)"),
			ins(1, "w1", "b"), commitSlots("0:b 1:-", "o1 w1 installed->absent (removed)", "o1 w1 absent->installed (inserted)"),
		}},
		{"insert then remove in one transaction is nothing", 2, []step{
			ins(1, "w1", "a"), rm(1, "w1"), commitSlots("0:- 1:-"),
		}},
		{"pinned: never evicted; a pinned request that cannot fit is refused", 1, []step{
			setOwner(1, 0, PolicyEmulate, true), setOwner(2, 99, PolicyEmulate, false),
			ins(1, "p1", "a"), commit("o1 p1 absent->installed (inserted)"),
			ins(2, "top", "b"), commit("o2 top absent->emulated (inserted)"),
			ins(1, "p2", "c"), commit("o1 p2 absent->refused (inserted)"),
			setOwner(3, 99, PolicyEmulate, true), ins(3, "p3", "d"), commit("o3 p3 absent->refused (inserted)"),
			setOwner(1, 0, PolicyEmulate, false),
			commit("o2 top emulated->installed (slot freed)", "o1 p1 installed->emulated (evicted by o2 top p99)"),
		}},
		{"pin on takes slots from unpinned higher priorities", 1, []step{
			setOwner(1, 0, PolicyEmulate, false), setOwner(2, 50, PolicyEmulate, false),
			ins(2, "w2", "b"), ins(1, "w1", "a"),
			commit("o2 w2 absent->installed (inserted)", "o1 w1 absent->emulated (inserted)"),
			setOwner(1, 0, PolicyEmulate, true),
			commit("o1 w1 emulated->installed (pinned)", "o2 w2 installed->emulated (evicted by o1 w1 p0)"),
		}},
		{"error policy: a new request is refused; an installed one evicted is suspended", 1, []step{
			setOwner(1, 10, PolicyError, false), setOwner(2, 20, PolicyEmulate, false),
			ins(1, "w1", "a"), commit("o1 w1 absent->installed (inserted)"),
			ins(1, "w2", "b"), commit("o1 w2 absent->refused (inserted)"),
			ins(2, "w3", "c"), commit("o2 w3 absent->installed (inserted)", "o1 w1 installed->suspended (evicted by o2 w3 p20)"),
			rm(2, "w3"), commit("o2 w3 installed->absent (removed)", "o1 w1 suspended->installed (slot freed)"),
		}},
		{"suspend policy, and a policy change", 1, []step{
			setOwner(1, 20, PolicyEmulate, false), setOwner(2, 10, PolicySuspend, false),
			ins(1, "w1", "a"), ins(2, "w2", "b"),
			commit("o1 w1 absent->installed (inserted)", "o2 w2 absent->suspended (inserted)"),
			setOwner(2, 10, PolicyEmulate, false), commit("o2 w2 suspended->emulated (policy changed)"),
			setOwner(2, 10, PolicyError, false), commit("o2 w2 emulated->suspended (policy changed)"),
		}},
		{"priority raised and lowered", 1, []step{
			setOwner(1, 10, PolicyEmulate, false), setOwner(2, 20, PolicyEmulate, false),
			ins(1, "w1", "a"), ins(2, "w2", "b"),
			commit("o2 w2 absent->installed (inserted)", "o1 w1 absent->emulated (inserted)"),
			setOwner(1, 30, PolicyEmulate, false),
			commit("o1 w1 emulated->installed (priority raised)", "o2 w2 installed->emulated (evicted by o1 w1 p30)"),
			setOwner(1, 0, PolicyEmulate, false),
			commit("o2 w2 emulated->installed (slot freed)", "o1 w1 installed->emulated (evicted by o2 w2 p20)"),
		}},
		{"capacity shrinks and grows", 3, []step{
			setOwner(1, 10, PolicyEmulate, false), setOwner(2, 20, PolicyEmulate, false),
			ins(2, "w1", "a"), ins(1, "w2", "b"), ins(2, "w3", "c"),
			commitSlots("0:a 1:c 2:b", "o2 w1 absent->installed (inserted)", "o2 w3 absent->installed (inserted)", "o1 w2 absent->installed (inserted)"),
			slotUsable(0, false), commitSlots("0:- 1:c 2:a", "o1 w2 installed->emulated (capacity shrank)"),
			capacity(0), commitSlots("0:- 1:- 2:-", "o2 w1 installed->emulated (capacity shrank)", "o2 w3 installed->emulated (capacity shrank)"),
			capacity(3), commitSlots("0:a 1:c 2:b", "o2 w1 emulated->installed (capacity grew)",
				"o2 w3 emulated->installed (capacity grew)", "o1 w2 emulated->installed (capacity grew)"),
		}},
		{"an owner leaves: its debugpoints go, others come back", 1, []step{
			setOwner(1, 10, PolicyEmulate, false), setOwner(2, 20, PolicySuspend, false),
			ins(1, "w1", "a"), ins(2, "w2", "b"), ins(2, "w3", "c"),
			commit("o2 w2 absent->installed (inserted)", "o2 w3 absent->suspended (inserted)", "o1 w1 absent->emulated (inserted)"),
			leave(2),
			commit("o2 w2 installed->absent (owner left)", "o2 w3 suspended->absent (owner left)",
				"o1 w1 emulated->installed (owner left)"),
		}},
		{"leave then insert again in one transaction keeps what is inserted", 1, []step{
			ins(1, "w1", "a"), ins(1, "w2", "b"), commit("o1 w1 absent->installed (inserted)", "o1 w2 absent->emulated (inserted)"),
			leave(1), ins(1, "w1", "a"), commit("o1 w2 emulated->absent (removed)"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New[int, string, string](tt.slots)
			for i, st := range tt.steps {
				if !st.commit {
					if err := st.do(a); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					continue
				}
				var got []string
				for _, e := range a.Commit() {
					got = append(got, evString(e))
				}
				if !slices.Equal(got, st.want) {
					t.Fatalf("step %d: events\n got: %q\nwant: %q", i, got, st.want)
				}
				if st.slots != "" {
					if got := slotsString(a); got != st.slots {
						t.Fatalf("step %d: slots %q, want %q", i, got, st.slots)
					}
				}
			}
		})
	}
}

func TestChurnAllocatesNothing(t *testing.T) {
	a := New[int, string, string](4)
	keys := []string{"w1", "w2", "w3", "w4"}
	pieces := [][]string{{"a", "x"}, {"b", "y"}, {"c", "x"}, {"d"}}
	_ = a.Insert(2, "other", "e")
	for i, k := range keys {
		_ = a.Insert(1, k, pieces[i]...)
	}
	a.Commit()
	allocs := testing.AllocsPerRun(100, func() {
		for _, k := range keys {
			a.Remove(1, k)
		}
		for i, k := range keys {
			_ = a.Insert(1, k, pieces[i]...)
		}
		if len(a.Commit()) != 0 || a.ChangedSlots() != 0 {
			t.Fatal("churn changed something")
		}
	})
	if allocs != 0 {
		t.Errorf("churn: %v allocations per commit, want 0", allocs)
	}
}

func TestHitsAndHolders(t *testing.T) {
	a := New[int, string, string](2)
	_ = a.SetOwner(2, OwnerConfig{Priority: 5})
	_ = a.Insert(1, "w1", "a")
	_ = a.Insert(2, "w2", "a", "b")
	_ = a.Insert(3, "w3", "c") // emulated
	a.Commit()
	var holders []string
	for info := range a.Holders(0) {
		holders = append(holders, fmt.Sprintf("o%d %s p%d %v", info.Owner, info.Key, info.Priority, info.State))
	}
	if want := []string{"o1 w1 p0 installed", "o2 w2 p5 installed"}; !slices.Equal(holders, want) {
		t.Errorf("holders of slot 0: %q, want %q", holders, want)
	}
	if n := a.Hit(0); n != 2 {
		t.Errorf("Hit(0) = %d, want 2", n)
	}
	if n := a.Hit(1); n != 1 {
		t.Errorf("Hit(1) = %d, want 1", n)
	}
	if n := a.Hit(3); n != 0 {
		t.Errorf("Hit(3) = %d, want 0", n)
	}
	if !a.HitDebugpoint(3, "w3") || a.HitDebugpoint(3, "nope") {
		t.Error("HitDebugpoint")
	}
	for _, c := range []struct {
		o    int
		k    string
		hits uint64
	}{{1, "w1", 1}, {2, "w2", 2}, {3, "w3", 1}} {
		if info, ok := a.Lookup(c.o, c.k); !ok || info.Hits != c.hits {
			t.Errorf("o%d %s: %+v %v, want %d hits", c.o, c.k, info, ok, c.hits)
		}
	}
	n := 0
	for range a.PieceHolders("b") {
		n++
	}
	if n != 1 {
		t.Errorf("holders of piece b: %d, want 1", n)
	}
}

func TestErrors(t *testing.T) {
	a := New[int, string, string](4)
	if err := a.Insert(1, "w"); !errors.Is(err, ErrNoPieces) {
		t.Errorf("insert without pieces: %v", err)
	}
	if err := a.SetOwner(1, OwnerConfig{Policy: 7}); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("bad policy: %v", err)
	}
	for _, n := range []int{-1, 5} {
		if err := a.SetCapacity(n); !errors.Is(err, ErrSlotRange) {
			t.Errorf("capacity %d: %v", n, err)
		}
	}
	for _, s := range []Slot{-1, 4} {
		if err := a.SetSlotUsable(s, true); !errors.Is(err, ErrSlotRange) {
			t.Errorf("slot %d: %v", s, err)
		}
	}
	if a.Remove(1, "nope") {
		t.Error("removed what was never inserted")
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{PolicyEmulate.String(), "emulate"},
		{PolicySuspend.String(), "suspend"},
		{PolicyError.String(), "error"},
		{Policy(9).String(), "policy(9)"},
		{Installed.String(), "installed"},
		{Refused.String(), "refused"},
		{State(9).String(), "state(9)"},
		{CauseCapacityShrank.String(), "capacity shrank"},
		{CauseOwnerLeft.String(), "owner left"},
		{Cause(0).String(), "cause(0)"},
		{ChangeReinstalled.String(), "reinstalled"},
		{Change(0).String(), "change(0)"},
		{SlotSet(0b1010).String(), "{1,3}"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, name := range []string{"emulate", "suspend", "error"} {
		if p, err := ParsePolicy(name); err != nil || p.String() != name {
			t.Errorf("ParsePolicy(%q) = %v, %v", name, p, err)
		}
	}
	if _, err := ParsePolicy("ignore"); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("ParsePolicy(ignore): %v", err)
	}
}

func TestChange(t *testing.T) {
	for _, c := range []struct {
		old, new State
		want     Change
	}{
		{Absent, Installed, ChangeInstalled},
		{Absent, Emulated, ChangeEmulated},
		{Absent, Suspended, ChangeSuspended},
		{Absent, Refused, ChangeRefused},
		{Installed, Emulated, ChangeEvicted},
		{Installed, Suspended, ChangeEvicted},
		{Emulated, Installed, ChangeReinstalled},
		{Suspended, Installed, ChangeReinstalled},
		{Suspended, Emulated, ChangeEmulated},
		{Emulated, Suspended, ChangeSuspended},
		{Installed, Absent, ChangeRemoved},
		{Emulated, Absent, ChangeRemoved},
	} {
		if got := (Event[int, int]{Old: c.old, New: c.new}).Change(); got != c.want {
			t.Errorf("%v->%v: %v, want %v", c.old, c.new, got, c.want)
		}
	}
}

func TestQueriesSeeTheLastCommit(t *testing.T) {
	a := New[int, string, string](1)
	if _, ok := a.Owner(1); ok {
		t.Error("unknown owner found")
	}
	_ = a.SetOwner(1, OwnerConfig{Priority: 7, Policy: PolicySuspend})
	if c, ok := a.Owner(1); !ok || c.Priority != 7 || c.Policy != PolicySuspend {
		t.Errorf("Owner(1) = %+v, %v: want the staged config", c, ok)
	}
	_ = a.Insert(1, "w1", "a")
	if _, ok := a.Lookup(1, "w1"); ok {
		t.Error("an uncommitted debugpoint is visible")
	}
	a.Commit()
	a.Remove(1, "w1")
	if info, ok := a.Lookup(1, "w1"); !ok || info.State != Installed || info.Priority != 7 {
		t.Errorf("Lookup before the removal commits: %+v, %v", info, ok)
	}
	a.Commit()
	if _, ok := a.Lookup(1, "w1"); ok {
		t.Error("a removed debugpoint is visible")
	}
	if a.Capacity() != 1 || a.NumSlots() != 1 {
		t.Errorf("capacity %d of %d", a.Capacity(), a.NumSlots())
	}
}

// TestDegenerateCommitsAreFast: in the tables where the rank walk never
// stops early (BenchmarkDegenerate), inserts at any rank and removals of
// the point ranked last, or of any point while every other is installed,
// are committed by the fast path, allocating nothing, with the events the
// rules give (the model tests check the rules themselves). A point ranked
// before waiting ones, removed from the wide table, takes the full plan:
// the slots it frees might let one of them in.
func TestDegenerateCommitsAreFast(t *testing.T) {
	for _, shape := range []string{"shared", "wide"} {
		a := degenerate(shape, 1000)
		_ = a.SetOwner(50, OwnerConfig{Priority: 15})
		a.Commit()
		for _, owner := range []int{0, 50, 99} {
			k, p := benchPoint(2000 + owner)
			fast := a.fastCommits
			if err := a.Insert(owner, k, p); err != nil {
				t.Fatal(err)
			}
			if evs := a.Commit(); len(evs) != 1 || evs[0].New != Installed || evs[0].Cause != CauseInserted {
				t.Errorf("%s: insert of owner %d: events %+v, want it installed", shape, owner, evs)
			}
			if a.fastCommits != fast+1 {
				t.Errorf("%s: insert of owner %d took the full plan", shape, owner)
			}
			fast = a.fastCommits
			a.Remove(owner, k)
			if evs := a.Commit(); len(evs) != 1 || evs[0].New != Absent {
				t.Errorf("%s: remove of owner %d: events %+v", shape, owner, evs)
			}
			if want := shape == "shared" || owner == 0; (a.fastCommits == fast+1) != want {
				t.Errorf("%s: remove of owner %d: fast path %v, want %v", shape, owner, a.fastCommits == fast+1, want)
			}
		}
		// A 2-piece point in the middle of the wide table cannot fit in
		// the one slot left: refused at its turn, without a walk.
		if shape == "wide" {
			fast := a.fastCommits
			k, p := benchPoint(3000)
			_ = a.Insert(50, k, p, benchPiece{Addr: p.Addr + 8})
			if evs := a.Commit(); len(evs) != 1 || evs[0].New != Emulated || a.fastCommits != fast+1 {
				t.Errorf("wide: a 2-piece point in the middle: events %+v, fast %d", evs, a.fastCommits-fast)
			}
			a.Remove(50, k)
			a.Commit()
		}
		k, p := benchPoint(4000)
		if n := testing.AllocsPerRun(100, func() {
			_ = a.Insert(0, k, p)
			a.Commit()
			a.Remove(0, k)
			a.Commit()
		}); n != 0 {
			t.Errorf("%s: %v allocations per insert and remove", shape, n)
		}
	}
}
