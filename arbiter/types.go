package arbiter

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"strings"
)

// MaxSlots is the most slots an Arbiter can share out. x86 has four; the
// limit only keeps a SlotSet one machine word.
const MaxSlots = 64

// Slot is the index of a physical slot, 0 to NumSlots-1. It is the
// arbiter's own space: the server converts it to the hardware's slot
// number, and clients never see it.
type Slot int

// SlotSet is a set of slots, bit n for slot n.
type SlotSet uint64

// Has reports whether s is in the set.
func (ss SlotSet) Has(s Slot) bool { return s >= 0 && s < MaxSlots && ss&(1<<s) != 0 }

// Len returns the number of slots in the set.
func (ss SlotSet) Len() int { return bits.OnesCount64(uint64(ss)) }

// All yields the slots of the set in increasing order.
func (ss SlotSet) All() iter.Seq[Slot] {
	return func(yield func(Slot) bool) {
		for rest := uint64(ss); rest != 0; rest &= rest - 1 {
			if !yield(Slot(bits.TrailingZeros64(rest))) {
				return
			}
		}
	}
}

// String lists the slot numbers, as in "{0,2}".
func (ss SlotSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for s := range ss.All() {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, int(s))
	}
	b.WriteByte('}')
	return b.String()
}

// firstSlots returns the set of slots 0 to n-1.
func firstSlots(n int) SlotSet {
	if n >= MaxSlots {
		return ^SlotSet(0)
	}
	return SlotSet(1)<<n - 1
}

// Policy says what a debugpoint of an owner becomes when it holds no slot
// (`monitor policy`, the --policy flag). The zero Policy is PolicyEmulate,
// the default.
type Policy uint8

// Policies.
const (
	// PolicyEmulate: a debugpoint without a slot is emulated (the server
	// watches it in software). Nothing is lost; it is slower.
	PolicyEmulate Policy = iota
	// PolicySuspend: a debugpoint without a slot is suspended: kept,
	// inactive, and reinstalled as soon as a slot frees.
	PolicySuspend
	// PolicyError: gdbserver's behaviour. A new debugpoint that gets no
	// slot is refused (the server answers E01, as gdbserver does when the
	// slots are full) and not kept. A debugpoint already installed that is
	// later evicted is suspended: its owner was told OK and still counts
	// on it.
	PolicyError
)

var policyNames = [...]string{
	PolicyEmulate: "emulate",
	PolicySuspend: "suspend",
	PolicyError:   "error",
}

func (p Policy) String() string {
	if p.valid() {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

func (p Policy) valid() bool { return p <= PolicyError }

// ParsePolicy returns the policy named s ("emulate", "suspend" or "error",
// the words of --policy and `monitor policy`). The error wraps
// ErrUnknownPolicy.
func ParsePolicy(s string) (Policy, error) {
	for p, name := range policyNames {
		if s == name {
			return Policy(p), nil
		}
	}
	return 0, fmt.Errorf("policy %q: %w", s, ErrUnknownPolicy)
}

// State is what a debugpoint is at the end of a commit.
type State uint8

// States. A debugpoint that exists is Installed, Emulated or Suspended;
// Absent and Refused appear only in events.
const (
	// Absent: not in the table. The old state of a new debugpoint, the
	// new state of a removed one.
	Absent State = iota
	// Installed: all its pieces hold slots (the seeds' "installed").
	Installed
	// Emulated: no slot; the server watches it in software.
	Emulated
	// Suspended: no slot; kept but inactive until one frees.
	Suspended
	// Refused: a new debugpoint that got no slot under PolicyError, or of
	// a pinned owner. It is not kept; the server answers its request with
	// an error.
	Refused
)

var stateNames = [...]string{
	Absent:    "absent",
	Installed: "installed",
	Emulated:  "emulated",
	Suspended: "suspended",
	Refused:   "refused",
}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Cause says why a debugpoint changed state. Event.Cause holds it.
type Cause uint8

// Causes.
const (
	// CauseInserted: the owner asked for the debugpoint in this commit.
	CauseInserted Cause = iota + 1
	// CauseRemoved: the owner removed the debugpoint.
	CauseRemoved
	// CauseOwnerLeft: the debugpoint's owner left, so it was removed; or,
	// for a reinstall, a slot freed because an owner left.
	CauseOwnerLeft
	// CauseEvicted: a debugpoint ranked before this one took its slot;
	// Event.By names it.
	CauseEvicted
	// CauseCapacityShrank: fewer slots are usable (the kernel said ENOSPC).
	CauseCapacityShrank
	// CauseCapacityGrew: more slots are usable.
	CauseCapacityGrew
	// CauseSlotFreed: room freed in the slots (a debugpoint was removed,
	// or moved out of the way).
	CauseSlotFreed
	// CausePriorityRaised: the owner raised its priority
	// (`monitor priority N`).
	CausePriorityRaised
	// CausePinned: the owner pinned its debugpoints (`monitor pin on`).
	CausePinned
	// CausePolicyChanged: the owner changed its policy (`monitor policy`),
	// which turns an emulated debugpoint into a suspended one or back.
	CausePolicyChanged
)

var causeNames = [...]string{
	CauseInserted:       "inserted",
	CauseRemoved:        "removed",
	CauseOwnerLeft:      "owner left",
	CauseEvicted:        "evicted",
	CauseCapacityShrank: "capacity shrank",
	CauseCapacityGrew:   "capacity grew",
	CauseSlotFreed:      "slot freed",
	CausePriorityRaised: "priority raised",
	CausePinned:         "pinned",
	CausePolicyChanged:  "policy changed",
}

func (c Cause) String() string {
	if int(c) < len(causeNames) && causeNames[c] != "" {
		return causeNames[c]
	}
	return fmt.Sprintf("cause(%d)", uint8(c))
}

// Change classifies an event by its old and new state, in the words of
// notices. Event.Change computes it.
type Change uint8

// Changes.
const (
	// ChangeInstalled: a new debugpoint got its slots.
	ChangeInstalled Change = iota + 1
	// ChangeEvicted: an installed debugpoint lost its slots (uninstalled);
	// it is now emulated or suspended.
	ChangeEvicted
	// ChangeReinstalled: an emulated or suspended debugpoint is back in
	// hardware.
	ChangeReinstalled
	// ChangeEmulated: a new or suspended debugpoint is now emulated.
	ChangeEmulated
	// ChangeSuspended: a new or emulated debugpoint is now suspended.
	ChangeSuspended
	// ChangeRefused: a new debugpoint was refused.
	ChangeRefused
	// ChangeRemoved: the debugpoint is gone (removed, or its owner left).
	ChangeRemoved
)

var changeNames = [...]string{
	ChangeInstalled:   "installed",
	ChangeEvicted:     "evicted",
	ChangeReinstalled: "reinstalled",
	ChangeEmulated:    "emulated",
	ChangeSuspended:   "suspended",
	ChangeRefused:     "refused",
	ChangeRemoved:     "removed",
}

func (c Change) String() string {
	if int(c) < len(changeNames) && changeNames[c] != "" {
		return changeNames[c]
	}
	return fmt.Sprintf("change(%d)", uint8(c))
}

// OwnerConfig is what the arbiter knows of an owner (a client). Every
// debugpoint of the owner shares it.
type OwnerConfig struct {
	// Priority: higher wins.
	Priority int
	// Policy: what a debugpoint without a slot becomes.
	Policy Policy
	// Pinned: the owner's installed debugpoints are never evicted by
	// another debugpoint (the seeds' caller that declares "I am not
	// well-behaved"), and its new ones that cannot fit are refused.
	Pinned bool
}

// Taker is the debugpoint that took a slot: Event.By of an eviction.
type Taker[O, K comparable] struct {
	Owner    O
	Key      K
	Priority int
	Pinned   bool
}

// Event is one debugpoint's change of state at a commit. A commit emits at
// most one event per debugpoint, and none for a debugpoint whose state did
// not change: not for one that merely moved to another slot, nor for one
// evicted and reinstalled within the commit, nor for one removed and
// inserted again.
type Event[O, K comparable] struct {
	Owner O
	Key   K
	// Priority is the owner's priority (after the commit; for a removed
	// debugpoint, before it).
	Priority int
	Old, New State
	Cause    Cause
	// By is the debugpoint that took the slot, when Cause is CauseEvicted.
	By Taker[O, K]
}

// Change classifies the event.
func (e Event[O, K]) Change() Change {
	switch {
	case e.New == Absent:
		return ChangeRemoved
	case e.New == Refused:
		return ChangeRefused
	case e.New == Installed && e.Old == Absent:
		return ChangeInstalled
	case e.New == Installed:
		return ChangeReinstalled
	case e.Old == Installed:
		return ChangeEvicted
	case e.New == Emulated:
		return ChangeEmulated
	}
	return ChangeSuspended
}

// Info describes one debugpoint as of the last commit, for `monitor
// slots`, `monitor clients` and hit reports.
type Info[O, K comparable] struct {
	Owner    O
	Key      K
	State    State
	Priority int
	Pinned   bool
	// Order is the install order: lower was inserted first. Among equal
	// priorities the higher Order is evicted first.
	Order uint64
	// Hits counts the triggers recorded with Hit and HitDebugpoint.
	Hits uint64
}

// Errors.
var (
	// ErrNoPieces: a debugpoint needs at least one piece.
	ErrNoPieces = errors.New("debugpoint has no pieces")
	// ErrUnknownPolicy: the policy is not emulate, suspend or error.
	ErrUnknownPolicy = errors.New("unknown policy")
	// ErrSlotRange: a slot number or capacity outside 0..NumSlots.
	ErrSlotRange = errors.New("slot out of range")
)
