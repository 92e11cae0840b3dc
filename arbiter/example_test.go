package arbiter_test

import (
	"fmt"

	"gdbserverx/arbiter"
)

// The server's types would be its client id, hwbp.Request and hwbp.Piece;
// these stand-ins keep arbiter's tests free of the project's packages.
type (
	clientID int
	request  struct {
		Kind      string
		Addr, Len uint64
	}
	piece struct {
		Addr uint64
		Len  uint8
	}
)

// notice writes the line a client is told, in the wording of DESIGN.md.
func notice(e arbiter.Event[clientID, request]) string {
	w := fmt.Sprintf("gdbserverx: %s %#x len %d: ", e.Key.Kind, e.Key.Addr, e.Key.Len)
	switch e.Change() {
	case arbiter.ChangeEvicted:
		now := "now emulated in software"
		if e.New == arbiter.Suspended {
			now = "now suspended"
		}
		if e.Cause == arbiter.CauseEvicted {
			return w + fmt.Sprintf("evicted from hardware by client #%d (priority %d > %d); %s", e.By.Owner, e.By.Priority, e.Priority, now)
		}
		return w + fmt.Sprintf("evicted from hardware (%v); %s", e.Cause, now)
	case arbiter.ChangeReinstalled:
		return w + fmt.Sprintf("back in hardware (%v)", e.Cause)
	}
	return w + e.Change().String()
}

func Example() {
	a := arbiter.New[clientID, request, piece](4)
	_ = a.SetOwner(1, arbiter.OwnerConfig{Priority: 10})
	_ = a.SetOwner(2, arbiter.OwnerConfig{Priority: 20})

	// Client #1 watches four variables.
	for i := range uint64(4) {
		addr := 0x404020 + 8*i
		_ = a.Insert(1, request{"watch", addr, 4}, piece{addr, 4})
	}
	a.Commit()

	// Client #1 stops: gdb removes every point, then inserts them again
	// before it resumes. One transaction: no change, no event, no debug
	// register to write.
	for i := range uint64(4) {
		a.Remove(1, request{"watch", 0x404020 + 8*i, 4})
	}
	for i := range uint64(4) {
		addr := 0x404020 + 8*i
		_ = a.Insert(1, request{"watch", addr, 4}, piece{addr, 4})
	}
	fmt.Println("churn events:", len(a.Commit()), "changed slots:", a.ChangedSlots())

	// Client #2, of higher priority, needs a slot: #1's most recent
	// watchpoint is evicted and emulated.
	_ = a.Insert(2, request{"watch", 0x601000, 8}, piece{0x601000, 8})
	for _, e := range a.Commit() {
		if e.Owner != 2 {
			fmt.Println(notice(e))
		}
	}
	fmt.Println("write debug registers of slots", a.ChangedSlots())

	// Client #2 leaves: the slot frees and #1's watchpoint is back.
	a.Leave(2)
	for _, e := range a.Commit() {
		if e.Owner != 2 {
			fmt.Println(notice(e))
		}
	}

	// monitor slots
	for s, p := range a.Slots() {
		for h := range a.Holders(s) {
			fmt.Printf("slot %d: %#x len %d: client #%d priority %d\n", s, p.Addr, p.Len, h.Owner, h.Priority)
		}
	}
	// Output:
	// churn events: 0 changed slots: {}
	// gdbserverx: watch 0x404038 len 4: evicted from hardware by client #2 (priority 20 > 10); now emulated in software
	// write debug registers of slots {3}
	// gdbserverx: watch 0x404038 len 4: back in hardware (owner left)
	// slot 0: 0x404020 len 4: client #1 priority 10
	// slot 1: 0x404028 len 4: client #1 priority 10
	// slot 2: 0x404030 len 4: client #1 priority 10
	// slot 3: 0x404038 len 4: client #1 priority 10
}
