package debugpoints

import (
	"errors"
	"fmt"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/swwatch"
)

// Limits of one client's hardware breakpoints and watchpoints (Z1-Z4),
// so that what a client may make the server keep is bounded: every
// debugpoint has its books in the arbiter, and an emulated watchpoint a
// copy of its bytes in the engine (swwatch). A Z beyond them gets
// ErrLimit (E1c, ENOSPC) at once; the longest single watchpoint is
// swwatch.MaxWatchLen (ErrTooLong, E16). gdb sets a few; a tracing
// script some dozens.
const (
	MaxPoints = 1024     // Z1-Z4 points inserted and not removed
	MaxBytes  = 16 << 20 // the sum of their lengths
)

// Errors of Insert; the server answers each with its E code.
var (
	// ErrInvalid: not a request hwbp can serve (a bad length, an
	// address outside user space). E16.
	ErrInvalid = errors.New("not a valid hardware breakpoint or watchpoint")
	// ErrTooLong: longer than swwatch.MaxWatchLen. E16.
	ErrTooLong = errors.New("longer than the longest watchpoint served")
	// ErrLimit: the client holds MaxPoints debugpoints or MaxBytes
	// watched bytes. E1c.
	ErrLimit = errors.New("the client holds the most points one client may")
	// ErrRefused: no slot, and no software fallback (a hardware
	// breakpoint, no engine, the error policy, a pinned owner): refused,
	// as gdbserver does. E01.
	ErrRefused = errors.New("no hardware slot free and no software fallback")
)

// Owner is an arbiter owner: a client, or the write pairs of its read
// watchpoints. A pair tells a read from a write exactly (hwbp, "Read
// watchpoints"); it is a second owner at the client's priority with the
// suspend policy, inserted after the access pieces, so that it gives way
// first and a read watchpoint then falls back to a value check. Pairs
// are internal: they get no notice and are not listed.
type Owner struct {
	Client int
	Pair   bool
}

// Event is an arbiter event of a debugpoint.
type Event = arbiter.Event[Owner, hwbp.Request]

// Change is one debugpoint's change of state at a commit, with the facts
// its notice names, as they were at that commit.
type Change struct {
	Event
	// Slots lists the slots its pieces hold, when it is now installed.
	Slots []int
	// A new debugpoint that found no slot: TooLong says its pieces
	// outnumber the slots (it is never in hardware, whoever holds
	// them); Holders lists who holds the slots, in slot order.
	TooLong bool
	Holders []Holder
	// Pinned says the owner is pinned (a new debugpoint refused).
	Pinned bool
}

// Holder is a client holding slots, at its priority.
type Holder struct {
	Client, Priority int
}

// Options say what the target can do for the debugpoints.
type Options struct {
	// Emulation: the software-watchpoint engine wraps the target, so a
	// watchpoint without a slot can be emulated.
	Emulation bool
	// SyscallExits: the target can stop at system-call exits, where the
	// kernel's writes into hardware-watched bytes are found.
	SyscallExits bool
}

// Set is the hardware-point state of one process. Owned by the server's
// core loop.
type Set struct {
	opts Options
	arb  *arbiter.Arbiter[Owner, hwbp.Request, hwbp.Piece]
	// pending holds each owner's z packets not yet applied.
	pending map[Owner]map[hwbp.Request]bool
	// slots and image are what the threads were given at the last
	// resume (Applied); a stop's DR6 is read against them.
	slots hwbp.Slots
	image hwbp.Image
	// values holds pieces' bytes as they were at the last resume, for
	// the hits that need a value check (widened pieces, read watchpoints
	// without a pair, kernel writes found at syscall exit).
	values map[hwbp.Piece][]byte
	// syscalls says syscall-exit stops are on (a write or access
	// watchpoint is in hardware: the kernel's writes raise no trap).
	syscalls bool
	// capacityCheck is when a slot the kernel refused is tried again.
	capacityCheck time.Time
	pieceBuf      []hwbp.Piece
	// tallies counts each client's debugpoints, from the arbiter's
	// events, for the limits.
	tallies map[int]tally
	// Emulated debugpoints are known to the engine by a number.
	watchIDs  map[watchKey]uint64
	watchKeys map[uint64]watchKey
	nextWatch uint64
	watchBuf  []swwatch.Watch
}

// tally is what one client holds in the arbiter, as of the last commit.
type tally struct {
	points int
	bytes  uint64
}

// watchKey names an emulated debugpoint for the engine's hit reports.
type watchKey struct {
	owner Owner
	req   hwbp.Request
}

// New returns the empty set of a process.
func New(opts Options) *Set {
	return &Set{
		opts:      opts,
		arb:       arbiter.New[Owner, hwbp.Request, hwbp.Piece](hwbp.NumSlots),
		pending:   map[Owner]map[hwbp.Request]bool{},
		values:    map[hwbp.Piece][]byte{},
		tallies:   map[int]tally{},
		watchIDs:  map[watchKey]uint64{},
		watchKeys: map[uint64]watchKey{},
	}
}

// Insert serves a Z1-Z4 of a client with its configuration. A Z of a
// point the client removed since the last resume takes the removal back,
// and a point inserted twice is one: neither changes anything. A new
// point is decided at once (the client's pending removals applied
// first), so that a refusal comes back on this Z; it returns the changes
// of the commits it made, refused or not.
func (d *Set) Insert(client int, cfg arbiter.OwnerConfig, req hwbp.Request) ([]Change, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("%v: %w: %w", req, ErrInvalid, err)
	}
	if req.Len > swwatch.MaxWatchLen {
		return nil, fmt.Errorf("%v: %w (%d bytes)", req, ErrTooLong, swwatch.MaxWatchLen)
	}
	o := Owner{Client: client}
	if d.pending[o][req] {
		delete(d.pending[o], req) // z then Z: no change at all
		return nil, nil
	}
	if info, ok := d.arb.Lookup(o, req); ok && info.State != arbiter.Refused {
		return nil, nil // inserted twice
	}
	if !d.roomFor(o, req) {
		return nil, fmt.Errorf("%v: %w (%d points, %d bytes watched)", req, ErrLimit, MaxPoints, MaxBytes)
	}
	pieces, wide, err := d.cut(cfg.Policy, req)
	if err != nil {
		return nil, fmt.Errorf("%v: %w: %w", req, ErrRefused, err)
	}
	d.arb.SetOwner(o, cfg)
	d.flushPending(o)
	if err := d.arb.Insert(o, req, pieces...); err != nil {
		return nil, fmt.Errorf("%v: %w: %w", req, ErrInvalid, err)
	}
	if req.Kind == hwbp.KindRead && !wide {
		po := Owner{Client: client, Pair: true}
		d.arb.SetOwner(po, pairConfig(cfg))
		d.flushPending(po)
		pairs := make([]hwbp.Piece, len(pieces))
		for i, pc := range pieces {
			pairs[i] = pc.WritePair()
		}
		d.arb.Insert(po, req, pairs...)
	}
	changes := d.commit()
	info, ok := d.arb.Lookup(o, req)
	if !ok || info.State == arbiter.Refused || info.State == arbiter.Emulated && !d.canEmulate(req) {
		// No slot and no software fallback: refused, as gdbserver does.
		d.arb.Remove(o, req)
		d.arb.Remove(Owner{Client: client, Pair: true}, req)
		return append(changes, d.commit()...), fmt.Errorf("%v: %w", req, ErrRefused)
	}
	return changes, nil
}

// cut makes the pieces of a request. A range longer than the slots can
// hold is never in hardware: under the emulate policy the arbiter keeps
// it (emulated, shown like the rest) with its first NumSlots+1 pieces,
// which never fit (wide); enumerating them all would take time and
// memory that grow with the length (issue 13: one Z2 of 4 GiB stalled the
// server).
func (d *Set) cut(pol arbiter.Policy, req hwbp.Request) (pieces []hwbp.Piece, wide bool, err error) {
	st := strategy(pol, req)
	pieces, err = st.Append(d.pieceBuf[:0], req)
	if errors.Is(err, hwbp.ErrTooManyPieces) && d.canEmulate(req) && pol == arbiter.PolicyEmulate {
		pieces, err = st.AppendHead(d.pieceBuf[:0], req, hwbp.NumSlots+1)
		wide = true
	}
	d.pieceBuf = pieces[:0]
	return pieces, wide, err
}

// strategy picks how to cut a request: as gdbserver does under the error
// policy (so that refusals match its E01), otherwise in the fewest slots
// for write watchpoints, whose widened bytes a value check filters
// exactly.
func strategy(pol arbiter.Policy, r hwbp.Request) hwbp.Strategy {
	if pol != arbiter.PolicyError && r.Kind == hwbp.KindWrite {
		return hwbp.FewestSlots
	}
	return hwbp.ExactCover
}

// pairConfig is the configuration of a client's write pairs.
func pairConfig(cfg arbiter.OwnerConfig) arbiter.OwnerConfig {
	return arbiter.OwnerConfig{Priority: cfg.Priority, Policy: arbiter.PolicySuspend}
}

// canEmulate says whether a debugpoint without a slot can be watched in
// software: a watchpoint, on a target the engine wraps. A hardware
// breakpoint without a slot is refused (E01), as gdbserver does.
func (d *Set) canEmulate(req hwbp.Request) bool {
	return d.opts.Emulation && req.Kind != hwbp.KindExecute
}

// Remove serves a z1-z4: the removal waits for the next resume (Plan),
// unless a Z of the same point takes it back first.
func (d *Set) Remove(client int, req hwbp.Request) {
	o := Owner{Client: client}
	if _, ok := d.arb.Lookup(o, req); !ok {
		return
	}
	if d.pending[o] == nil {
		d.pending[o] = map[hwbp.Request]bool{}
	}
	d.pending[o][req] = true
}

// flushPending stages an owner's pending removals (and its pairs').
func (d *Set) flushPending(o Owner) {
	for req := range d.pending[o] {
		d.arb.Remove(o, req)
		if req.Kind == hwbp.KindRead {
			d.arb.Remove(Owner{Client: o.Client, Pair: true}, req)
		}
	}
	delete(d.pending, o)
}

// SetOwner gives the arbiter a client's new priority, policy or pinning
// and re-plans at once: other clients hear of evictions now.
func (d *Set) SetOwner(client int, cfg arbiter.OwnerConfig) []Change {
	if _, ok := d.arb.Owner(Owner{Client: client}); ok {
		d.arb.SetOwner(Owner{Client: client}, cfg)
	}
	if _, ok := d.arb.Owner(Owner{Client: client, Pair: true}); ok {
		d.arb.SetOwner(Owner{Client: client, Pair: true}, pairConfig(cfg))
	}
	return d.commit()
}

// Leave releases a client's debugpoints (it disconnected or detached) and
// commits: its slots go to others' points, with their changes.
func (d *Set) Leave(client int) []Change {
	for _, o := range []Owner{{Client: client}, {Client: client, Pair: true}} {
		delete(d.pending, o)
		d.arb.Leave(o)
	}
	// The engine's numbers of its emulated debugpoints go with it: kept,
	// they would grow with every client that ever emulated one.
	for k, n := range d.watchIDs {
		if k.owner.Client == client {
			delete(d.watchIDs, k)
			delete(d.watchKeys, n)
		}
	}
	return d.commit()
}

// roomFor says whether owner o may have one more debugpoint, req, within
// the limits: its committed debugpoints, less those its pending z packets
// remove, plus req.
func (d *Set) roomFor(o Owner, req hwbp.Request) bool {
	t := d.tallies[o.Client]
	for r := range d.pending[o] {
		t.points--
		t.bytes -= r.Len
	}
	return t.points < MaxPoints && t.bytes+req.Len <= MaxBytes
}

// commit commits the arbiter: the tallies follow its events, and each
// event becomes a Change with the facts of this moment.
func (d *Set) commit() []Change {
	events := d.arb.Commit()
	if len(events) == 0 {
		return nil
	}
	out := make([]Change, 0, len(events))
	for _, ev := range events {
		d.count(ev)
		out = append(out, d.change(ev))
	}
	return out
}

// change adds to an event the facts its notice or log line names.
func (d *Set) change(ev Event) Change {
	ch := Change{Event: ev}
	switch {
	case ev.New == arbiter.Installed:
		ch.Slots = d.slotsOf(ev.Owner, ev.Key)
	case ev.New == arbiter.Refused:
		cfg, _ := d.arb.Owner(ev.Owner)
		ch.Pinned = cfg.Pinned
	case ev.Old == arbiter.Absent && !ev.Owner.Pair:
		ch.TooLong = d.tooLong(ev.Owner, ev.Key)
		ch.Holders = d.holders()
	}
	return ch
}

// count keeps the tallies from an arbiter event of a client's debugpoint.
func (d *Set) count(ev Event) {
	if ev.Owner.Pair {
		return
	}
	held := func(st arbiter.State) bool { return st != arbiter.Absent && st != arbiter.Refused }
	t := d.tallies[ev.Owner.Client]
	switch {
	case !held(ev.Old) && held(ev.New):
		t.points++
		t.bytes += ev.Key.Len
	case held(ev.Old) && !held(ev.New):
		t.points--
		t.bytes -= ev.Key.Len
	}
	if t == (tally{}) {
		delete(d.tallies, ev.Owner.Client)
		return
	}
	d.tallies[ev.Owner.Client] = t
}

// tooLong says whether an owner's request needs more pieces than there
// are slots, cut as that owner's policy cuts it.
func (d *Set) tooLong(o Owner, req hwbp.Request) bool {
	st := hwbp.ExactCover
	if cfg, ok := d.arb.Owner(o); ok {
		st = strategy(cfg.Policy, req)
	}
	n, err := st.Count(req)
	return err == nil && n > hwbp.NumSlots
}

// holders lists who holds the slots, each client once, in slot order.
func (d *Set) holders() []Holder {
	var out []Holder
	for sl := range d.arb.Slots() {
	holders:
		for info := range d.arb.Holders(sl) {
			for i := range out {
				if out[i].Client == info.Owner.Client {
					out[i].Priority = info.Priority
					continue holders
				}
			}
			out = append(out, Holder{Client: info.Owner.Client, Priority: info.Priority})
		}
	}
	return out
}

// slotsOf lists the slots a debugpoint's pieces hold.
func (d *Set) slotsOf(o Owner, k hwbp.Request) []int {
	var out []int
	for sl := range d.arb.Slots() {
		for info := range d.arb.Holders(sl) {
			if info.Owner == o && info.Key == k {
				out = append(out, int(sl))
				break
			}
		}
	}
	return out
}
