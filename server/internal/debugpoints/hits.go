package debugpoints

import (
	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/target"
)

// Hit is a debugpoint its owner is told was hit: the kind of the
// debugpoint (the stop reply's watch, rwatch, awatch or hwbreak) and the
// address to report, inside its range. Each is counted in the
// debugpoint's hits (`monitor slots`).
type Hit struct {
	Client int
	Kind   hwbp.Kind
	Addr   uint64
}

// DebugStop explains a debug-exception stop of a thread: its DR6, read
// against the image the thread ran with, and the engine's hits of the
// same instruction. It says whether the trap was a single step, and
// returns the hits, in slot order, then the engine's; a client may get
// several (the first is its stop reply, the others wait for its next
// resumes).
func (d *Set) DebugStop(dr6 uint64, emulated []target.WatchHit, mem Memory) (step bool, hits []Hit) {
	status := hwbp.DecodeStatus(dr6, d.image.Enabled())
	hits = d.slotHits(status.Fired, mem)
	return status.SingleStep, append(hits, d.EmulatedHits(emulated)...)
}

// slotHits judges each fired slot's piece for each debugpoint holding it
// (hwbp's Judge): with the bytes before the run and now for a piece that
// needs a value check, and whether a read watchpoint's write pair fired.
func (d *Set) slotHits(fired hwbp.SlotSet, mem Memory) []Hit {
	var hits []Hit
	pairFired := map[hwbp.Piece]bool{}
	for _, pc := range d.slots.Fired(fired) {
		if pc.Cond == hwbp.CondWrite {
			pairFired[pc] = true
		}
	}
	after := map[hwbp.Piece][]byte{}
	for sl, pc := range d.slots.Fired(fired) {
		for info := range d.arb.Holders(arbiter.Slot(sl)) {
			if info.Owner.Pair {
				continue
			}
			req := info.Key
			ev := hwbp.Evidence{Before: d.values[pc]}
			if ev.Before != nil {
				if after[pc] == nil {
					after[pc] = read(mem, pc)
				}
				ev.After = after[pc]
			}
			if req.Kind == hwbp.KindRead && d.pairInstalled(info.Owner.Client, req) {
				ev.Pair = hwbp.PairQuiet
				if pairFired[pc.WritePair()] {
					ev.Pair = hwbp.PairFired
				}
			}
			v := req.Judge(pc, ev)
			if !v.Report {
				continue
			}
			d.arb.HitDebugpoint(info.Owner, req)
			hits = append(hits, Hit{Client: info.Owner.Client, Kind: req.Kind, Addr: v.Addr})
		}
	}
	// The stores that trapped are accounted for: a compare at a syscall
	// exit in this stop must not take them for the kernel's.
	for _, pc := range d.slots.Fired(fired) {
		if _, ok := d.values[pc]; !ok {
			continue
		}
		if now, ok := after[pc]; ok && now != nil {
			d.values[pc] = now
		} else if now := read(mem, pc); now != nil {
			d.values[pc] = now
		}
	}
	return hits
}

// EmulatedHits routes the engine's hits to the owners of the emulated
// debugpoints; hits of debugpoints no longer known are dropped.
func (d *Set) EmulatedHits(hits []target.WatchHit) []Hit {
	var out []Hit
	for _, h := range hits {
		k, ok := d.watchKeys[h.ID]
		if !ok {
			continue
		}
		d.arb.HitDebugpoint(k.owner, k.req)
		out = append(out, Hit{Client: k.owner.Client, Kind: k.req.Kind, Addr: h.Addr})
	}
	return out
}

// KernelWrites explains a syscall-exit stop: the bytes of write and access
// watchpoints in hardware that the kernel changed (read(2) into a watched
// buffer), which the hardware never traps on.
func (d *Set) KernelWrites(mem Memory) []Hit {
	var hits []Hit
	for sl, pc := range d.slots {
		before, ok := d.values[pc]
		if !ok || pc.Cond == hwbp.CondExecute {
			continue
		}
		now := read(mem, pc)
		if now == nil {
			continue
		}
		for info := range d.arb.Holders(arbiter.Slot(sl)) {
			if info.Owner.Pair || info.Key.Kind == hwbp.KindRead {
				continue
			}
			req := info.Key
			v := req.Judge(pc, hwbp.Evidence{Before: before, After: now})
			if !v.Report || string(before) == string(now) {
				continue
			}
			d.arb.HitDebugpoint(info.Owner, req)
			hits = append(hits, Hit{Client: info.Owner.Client, Kind: req.Kind, Addr: v.Addr})
		}
		d.values[pc] = now
	}
	return hits
}
