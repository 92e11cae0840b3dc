package debugpoints

import (
	"fmt"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/swwatch"
	"gdbserverx/target"
)

// Memory is what the value checks read: the process's memory.
type Memory interface {
	ReadMemory(addr uint64, buf []byte) (int, error)
}

// capacityRetry is how long a slot the kernel refused is left alone
// before it is tried again.
const capacityRetry = time.Second

// Plan is what the target must hold when the process next runs.
type Plan struct {
	// Image is every thread's debug registers; ImageChanged says it is
	// not the image applied last (an unchanged image is not given to the
	// target again).
	Image        hwbp.Image
	ImageChanged bool
	// Watches is the engine's whole set of emulated watchpoints (nil
	// without Options.Emulation); an unchanged set costs it nothing.
	Watches []swwatch.Watch
	// SyscallExits says whether syscall-exit stops must be on (only with
	// Options.SyscallExits); SyscallsChanged that they must be switched.
	SyscallExits, SyscallsChanged bool

	slots hwbp.Slots
}

// Plan prepares the next resume: the pending removals are applied, a
// slot the kernel refused is tried again once capacityRetry has passed
// (now), and the arbiter commits. It returns what the target must hold
// and the commit's changes. Give the plan to the target, then to
// Applied.
func (d *Set) Plan(now time.Time) (Plan, []Change, error) {
	for o := range d.pending {
		d.flushPending(o)
	}
	if d.arb.Capacity() < d.arb.NumSlots() && now.After(d.capacityCheck) {
		// A slot the kernel refused may be free again: try it.
		d.arb.SetCapacity(d.arb.NumSlots())
	}
	changes := d.commit()
	var p Plan
	for sl, pc := range d.arb.Slots() {
		p.slots[sl] = pc
	}
	img, err := p.slots.Encode()
	if err != nil {
		return Plan{}, changes, fmt.Errorf("encode debug registers: %w", err)
	}
	p.Image, p.ImageChanged = img, img != d.image
	if d.opts.Emulation {
		p.Watches = d.emulated()
	}
	if d.opts.SyscallExits {
		for _, pc := range p.slots {
			if pc.Cond == hwbp.CondWrite || pc.Cond == hwbp.CondAccess {
				p.SyscallExits = true
			}
		}
		p.SyscallsChanged = p.SyscallExits != d.syscalls
	}
	return p, changes, nil
}

// Applied records that the target holds the plan, and copies the bytes of
// the pieces whose hits need a value check, as they are before the run.
func (d *Set) Applied(p Plan, mem Memory) {
	d.slots, d.image = p.slots, p.Image
	if d.opts.SyscallExits {
		d.syscalls = p.SyscallExits
	}
	clear(d.values)
	for sl, pc := range d.slots {
		if pc == (hwbp.Piece{}) || pc.Cond == hwbp.CondExecute {
			continue
		}
		if !d.syscalls && !d.needsValues(hwbp.Slot(sl), pc) {
			continue
		}
		if buf := read(mem, pc); buf != nil {
			d.values[pc] = buf
		}
	}
}

// NoSpace handles the kernel refusing a slot (ENOSPC: another perf user
// holds it): the arbiter plans with one slot less from now on, and tries
// the slot again after capacityRetry. ok is false when no slot is left to
// give up.
func (d *Set) NoSpace(now time.Time) (capacity int, ok bool) {
	n := d.arb.Capacity() - 1
	if n < 0 {
		return 0, false
	}
	d.arb.SetCapacity(n)
	d.capacityCheck = now.Add(capacityRetry)
	return n, true
}

// Changed says the slots differ from what the running threads hold
// (a client left, or changed its priority): a running process must be
// stopped and resumed to take the new plan.
func (d *Set) Changed() bool { return d.arb.ChangedSlots() != 0 }

// emulated is the engine's set: the debugpoints that are emulated, each
// with the number the engine reports its hits by.
func (d *Set) emulated() []swwatch.Watch {
	ws := d.watchBuf[:0]
	for o := range d.arb.Owners() {
		if o.Pair {
			continue
		}
		for info := range d.arb.Debugpoints(o) {
			if info.State != arbiter.Emulated || info.Key.Kind == hwbp.KindExecute {
				continue
			}
			k := watchKey{info.Owner, info.Key}
			id, ok := d.watchIDs[k]
			if !ok {
				d.nextWatch++
				id = d.nextWatch
				d.watchIDs[k] = id
				d.watchKeys[id] = k
			}
			ws = append(ws, swwatch.Watch{ID: id, Addr: info.Key.Addr, Len: info.Key.Len, Kind: watchKind(info.Key.Kind)})
		}
	}
	d.watchBuf = ws
	return ws
}

// watchKind maps a hwbp kind to the engine's.
func watchKind(k hwbp.Kind) swwatch.Kind {
	switch k {
	case hwbp.KindRead:
		return target.WatchRead
	case hwbp.KindWrite:
		return target.WatchWrite
	}
	return target.WatchAccess
}

// needsValues says whether a hit on a piece needs a value check: a
// widened piece, or the access piece of a read watchpoint with no pair.
func (d *Set) needsValues(sl hwbp.Slot, pc hwbp.Piece) bool {
	for info := range d.arb.Holders(arbiter.Slot(sl)) {
		if info.Owner.Pair {
			continue
		}
		if info.Key.Outside(pc) != 0 {
			return true
		}
		if info.Key.Kind == hwbp.KindRead && !d.pairInstalled(info.Owner.Client, info.Key) {
			return true
		}
	}
	return false
}

func (d *Set) pairInstalled(client int, req hwbp.Request) bool {
	info, ok := d.arb.Lookup(Owner{Client: client, Pair: true}, req)
	return ok && info.State == arbiter.Installed
}

// read reads a piece's bytes, or nil when they cannot all be read.
func read(mem Memory, pc hwbp.Piece) []byte {
	buf := make([]byte, pc.Len)
	if n, _ := mem.ReadMemory(pc.Addr, buf); n != len(buf) {
		return nil
	}
	return buf
}
