package server

import (
	"errors"
	"fmt"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/rsp"
	"gdbserverx/swwatch"
	"gdbserverx/target"
)

// Hardware breakpoints and watchpoints (Z1-Z4) are debugpoints: hwbp cuts
// each request into pieces, the arbiter decides which pieces hold the
// process's debug-register slots, and the target writes the resulting image
// into each thread as it resumes.
//
// gdb removes every point after a stop and inserts them again before it
// resumes. So a z is only noted (pending), and a Z of a pending point takes
// the note back: the pair costs nothing. A Z of a new point is decided at
// once (its owner's pending removals applied first), so that a refusal comes
// back on that very Z, as gdbserver's E01 does. Everything else is applied
// when the process next resumes.

// Limits of one client's hardware breakpoints and watchpoints (Z1-Z4),
// so that what a client may make the server keep is bounded: every
// debugpoint has its books in the arbiter, and an emulated watchpoint a
// copy of its bytes in the engine (swwatch). A Z beyond them gets E1c
// (ENOSPC) at once; the longest single watchpoint is swwatch.MaxWatchLen
// (E16 beyond). gdb sets a few; a tracing script some dozens.
const (
	maxClientDebugpoints = 1024     // Z1-Z4 points inserted and not removed
	maxClientWatchBytes  = 16 << 20 // the sum of their lengths
)

// tally is what one client holds in the arbiter, as of the last commit.
type tally struct {
	points int
	bytes  uint64
}

// owner is an arbiter owner: a client, or the write pairs of its read
// watchpoints. A pair tells a read from a write exactly (hwbp, "Read
// watchpoints"); it is a second owner at the client's priority with the
// suspend policy, inserted after the access pieces, so that it gives way
// first and a read watchpoint then falls back to a value check.
type owner struct {
	id   int
	pair bool
}

// debugpoints is the hardware-point state of one process. Owned by the core
// loop.
type debugpoints struct {
	arb *arbiter.Arbiter[owner, hwbp.Request, hwbp.Piece]
	// pending holds each owner's z packets not yet applied.
	pending map[owner]map[hwbp.Request]bool
	// slots and image are what the threads were given at the last resume;
	// a stop's DR6 is read against them.
	slots hwbp.Slots
	image hwbp.Image
	// values holds pieces' bytes as they were at the last resume, for the
	// hits that need a value check (widened pieces, read watchpoints
	// without a pair, kernel writes found at syscall exit).
	values map[hwbp.Piece][]byte
	// syscalls says syscall-exit stops are on (a write or access
	// watchpoint is in hardware: the kernel's writes raise no trap).
	syscalls bool
	// capacityCheck is when a slot the kernel refused is tried again.
	capacityCheck time.Time
	pieceBuf      []hwbp.Piece
	// tallies counts each client's debugpoints (by client id), from the
	// arbiter's events, for the limits above.
	tallies map[int]tally
	// Emulated debugpoints are known to the engine by a number.
	watchIDs  map[watchKey]uint64
	watchKeys map[uint64]watchKey
	nextWatch uint64
	watchBuf  []swwatch.Watch
}

func newDebugpoints() *debugpoints {
	return &debugpoints{
		arb:     arbiter.New[owner, hwbp.Request, hwbp.Piece](hwbp.NumSlots),
		pending: map[owner]map[hwbp.Request]bool{},
		values:  map[hwbp.Piece][]byte{},
		tallies: map[int]tally{},

		watchIDs:  map[watchKey]uint64{},
		watchKeys: map[uint64]watchKey{},
	}
}

// kindOf maps a Z type to a hwbp kind.
func kindOf(t rsp.BreakpointType) (hwbp.Kind, bool) {
	switch t {
	case rsp.HardwareBreakpoint:
		return hwbp.KindExecute, true
	case rsp.WriteWatchpoint:
		return hwbp.KindWrite, true
	case rsp.ReadWatchpoint:
		return hwbp.KindRead, true
	case rsp.AccessWatchpoint:
		return hwbp.KindAccess, true
	}
	return 0, false
}

// request makes the hwbp request of a Z or z packet.
func request(t rsp.BreakpointType, addr, kind uint64) (hwbp.Request, bool) {
	k, ok := kindOf(t)
	if !ok {
		return hwbp.Request{}, false
	}
	n := kind
	if k == hwbp.KindExecute {
		n = 1 // gdb sends the breakpoint kind (1 on x86), not a length
	}
	return hwbp.Request{Kind: k, Addr: addr, Len: n}, true
}

// ownerConfig is what the arbiter knows of a client.
func (s *Server) ownerConfig(c *client) arbiter.OwnerConfig {
	return arbiter.OwnerConfig{Priority: c.priority, Policy: c.policy, Pinned: c.pinned}
}

// strategy picks how to cut a request: as gdbserver does under the error
// policy (so that refusals match its E01), otherwise in the fewest slots
// for write watchpoints, whose widened bytes a value check filters exactly.
func strategy(c *client, r hwbp.Request) hwbp.Strategy {
	if c.policy != arbiter.PolicyError && r.Kind == hwbp.KindWrite {
		return hwbp.FewestSlots
	}
	return hwbp.ExactCover
}

// insertHardware serves Z1-Z4.
func (s *Server) insertHardware(c *client, r *rsp.InsertBreakpoint) {
	p := s.proc
	if p.hw == nil {
		c.replyEmpty()
		return
	}
	req, _ := request(r.Type, r.Addr, r.Kind)
	if err := req.Validate(); err != nil {
		s.debugf("client #%d: %v: %v", c.id, req, err)
		c.replyError(rsp.CodeInvalid)
		return
	}
	if req.Len > swwatch.MaxWatchLen {
		s.logf("client #%d: %v: longer than the longest watchpoint served (%d bytes)", c.id, req, swwatch.MaxWatchLen)
		c.replyError(rsp.CodeInvalid)
		return
	}
	d := p.dp
	o := owner{id: c.id}
	if d.pending[o][req] {
		delete(d.pending[o], req) // z then Z: no change at all
		c.replyOK()
		return
	}
	if info, ok := d.arb.Lookup(o, req); ok && info.State != arbiter.Refused {
		c.replyOK() // inserted twice
		return
	}
	if !d.roomFor(o, req) {
		s.logf("client #%d: %v: the client holds the most points one client may (%d points, %d bytes watched)", c.id, req, maxClientDebugpoints, maxClientWatchBytes)
		c.replyError(rsp.CodeNoSpace)
		return
	}
	pieces, err := strategy(c, req).Append(d.pieceBuf[:0], req)
	wide := false
	if errors.Is(err, hwbp.ErrTooManyPieces) && s.canEmulate(req) && c.policy == arbiter.PolicyEmulate {
		// A range longer than the slots can hold is never in hardware.
		// The arbiter keeps it (emulated, shown like the rest) with its
		// first NumSlots+1 pieces, which never fit: enumerating them all
		// would take time and memory that grow with the length (issue
		// 13: one Z2 of 4 GiB stalled the server).
		pieces, err = strategy(c, req).AppendHead(d.pieceBuf[:0], req, hwbp.NumSlots+1)
		wide = true
	}
	d.pieceBuf = pieces[:0]
	if err != nil {
		s.debugf("client #%d: %v: %v", c.id, req, err)
		c.replyError(rsp.CodeNotPermitted)
		return
	}
	d.arb.SetOwner(o, s.ownerConfig(c))
	s.flushPending(o)
	if err := d.arb.Insert(o, req, pieces...); err != nil {
		c.replyError(rsp.CodeInvalid)
		return
	}
	if req.Kind == hwbp.KindRead && !wide {
		po := owner{id: c.id, pair: true}
		d.arb.SetOwner(po, arbiter.OwnerConfig{Priority: c.priority, Policy: arbiter.PolicySuspend})
		s.flushPending(po)
		pairs := make([]hwbp.Piece, len(pieces))
		for i, pc := range pieces {
			pairs[i] = pc.WritePair()
		}
		d.arb.Insert(po, req, pairs...)
	}
	s.commitDebugpoints()
	info, ok := d.arb.Lookup(o, req)
	if !ok || info.State == arbiter.Refused || info.State == arbiter.Emulated && !s.canEmulate(req) {
		// No slot and no software fallback: refused, as gdbserver does.
		d.arb.Remove(o, req)
		d.arb.Remove(owner{id: c.id, pair: true}, req)
		s.commitDebugpoints()
		c.replyError(rsp.CodeNotPermitted)
		return
	}
	c.replyOK()
}

// roomFor says whether owner o may have one more debugpoint, req, within
// the limits: its committed debugpoints, less those its pending z packets
// remove, plus req.
func (d *debugpoints) roomFor(o owner, req hwbp.Request) bool {
	t := d.tallies[o.id]
	for r := range d.pending[o] {
		t.points--
		t.bytes -= r.Len
	}
	return t.points < maxClientDebugpoints && t.bytes+req.Len <= maxClientWatchBytes
}

// count keeps the tallies from an arbiter event of a client's debugpoint.
func (d *debugpoints) count(ev arbiter.Event[owner, hwbp.Request]) {
	if ev.Owner.pair {
		return
	}
	held := func(st arbiter.State) bool { return st != arbiter.Absent && st != arbiter.Refused }
	t := d.tallies[ev.Owner.id]
	switch {
	case !held(ev.Old) && held(ev.New):
		t.points++
		t.bytes += ev.Key.Len
	case held(ev.Old) && !held(ev.New):
		t.points--
		t.bytes -= ev.Key.Len
	}
	if t == (tally{}) {
		delete(d.tallies, ev.Owner.id)
		return
	}
	d.tallies[ev.Owner.id] = t
}

// tooLong says whether a client's request needs more pieces than there
// are slots: it is never in hardware, whoever holds the slots.
func (s *Server) tooLong(id int, req hwbp.Request) bool {
	st := hwbp.ExactCover
	if c := s.clientByID(id); c != nil {
		st = strategy(c, req)
	}
	n, err := st.Count(req)
	return err == nil && n > hwbp.NumSlots
}

// removeHardware serves z1-z4: the removal waits for the next resume.
func (s *Server) removeHardware(c *client, r *rsp.RemoveBreakpoint) {
	p := s.proc
	if p.hw == nil {
		c.replyEmpty()
		return
	}
	req, _ := request(r.Type, r.Addr, r.Kind)
	d := p.dp
	o := owner{id: c.id}
	if _, ok := d.arb.Lookup(o, req); ok {
		if d.pending[o] == nil {
			d.pending[o] = map[hwbp.Request]bool{}
		}
		d.pending[o][req] = true
	}
	c.replyOK()
}

// flushPending stages an owner's pending removals (and its pairs').
func (s *Server) flushPending(o owner) {
	d := s.proc.dp
	for req := range d.pending[o] {
		d.arb.Remove(o, req)
		if req.Kind == hwbp.KindRead {
			d.arb.Remove(owner{id: o.id, pair: true}, req)
		}
	}
	delete(d.pending, o)
}

// canEmulate says whether a debugpoint without a slot can be watched in
// software: a watchpoint, on a target the swwatch engine can wrap. A
// hardware breakpoint without a slot is refused (E01), as gdbserver does.
func (s *Server) canEmulate(req hwbp.Request) bool {
	return s.proc != nil && s.proc.sw != nil && req.Kind != hwbp.KindExecute
}

// commitDebugpoints commits the arbiter and turns its events into notices.
func (s *Server) commitDebugpoints() {
	d := s.proc.dp
	for _, ev := range d.arb.Commit() {
		d.count(ev)
		s.debugpointEvent(ev)
	}
}

// prepareDebugRegisters applies pending removals, commits, and gives the
// target the image of the slots, just before a resume.
func (s *Server) prepareDebugRegisters() error {
	p := s.proc
	if p.hw == nil {
		return nil
	}
	d := p.dp
	for o := range d.pending {
		s.flushPending(o)
	}
	if d.arb.Capacity() < d.arb.NumSlots() && time.Now().After(d.capacityCheck) {
		// A slot the kernel refused may be free again: try it.
		d.arb.SetCapacity(d.arb.NumSlots())
	}
	s.commitDebugpoints()
	var slots hwbp.Slots
	for sl, pc := range d.arb.Slots() {
		slots[sl] = pc
	}
	img, err := slots.Encode()
	if err != nil {
		return fmt.Errorf("encode debug registers: %w", err)
	}
	if img != d.image {
		if err := p.hw.SetDebugRegisters(target.DebugRegisters(img)); err != nil {
			return err
		}
	}
	d.slots, d.image = slots, img
	if err := s.setSoftwareWatches(); err != nil {
		return err
	}
	if p.sys != nil {
		want := false
		for _, pc := range slots {
			if pc.Cond == hwbp.CondWrite || pc.Cond == hwbp.CondAccess {
				want = true
			}
		}
		if want != d.syscalls {
			if err := p.sys.TraceSyscalls(want); err != nil {
				return err
			}
			d.syscalls = want
		}
	}
	s.snapshotValues()
	return nil
}

// watchKey names an emulated debugpoint for the engine's hit reports.
type watchKey struct {
	owner owner
	req   hwbp.Request
}

// setSoftwareWatches gives the engine the debugpoints that are emulated:
// the whole set at every resume (an unchanged set costs it nothing).
func (s *Server) setSoftwareWatches() error {
	p := s.proc
	if p.sw == nil {
		return nil
	}
	d := p.dp
	ws := d.watchBuf[:0]
	for _, c := range s.clients {
		for info := range d.arb.Debugpoints(owner{id: c.id}) {
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
	return p.sw.SetWatches(ws)
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

// softwareHits routes the engine's hits to the owners of the emulated
// debugpoints.
func (s *Server) softwareHits(hits []target.WatchHit) map[*client][]stopNote {
	d := s.proc.dp
	var out map[*client][]stopNote
	for _, h := range hits {
		k, ok := d.watchKeys[h.ID]
		if !ok {
			continue
		}
		c := s.clientByID(k.owner.id)
		if c == nil {
			continue
		}
		d.arb.HitDebugpoint(k.owner, k.req)
		if out == nil {
			out = map[*client][]stopNote{}
		}
		out[c] = append(out[c], stopNote{reason: watchReason(k.req.Kind), addr: h.Addr})
	}
	return out
}

// snapshotValues copies the bytes of the pieces whose hits need a value
// check.
func (s *Server) snapshotValues() {
	p := s.proc
	d := p.dp
	clear(d.values)
	for sl, pc := range d.slots {
		if pc == (hwbp.Piece{}) || pc.Cond == hwbp.CondExecute {
			continue
		}
		if !d.syscalls && !s.needsValues(hwbp.Slot(sl), pc) {
			continue
		}
		buf := make([]byte, pc.Len)
		if n, _ := p.t.ReadMemory(pc.Addr, buf); n == len(buf) {
			d.values[pc] = buf
		}
	}
}

// needsValues says whether a hit on a piece needs a value check: a
// widened piece, or the access piece of a read watchpoint with no pair.
func (s *Server) needsValues(sl hwbp.Slot, pc hwbp.Piece) bool {
	d := s.proc.dp
	for info := range d.arb.Holders(arbiter.Slot(sl)) {
		if info.Owner.pair {
			continue
		}
		if info.Key.Outside(pc) != 0 {
			return true
		}
		if info.Key.Kind == hwbp.KindRead && !d.pairInstalled(info.Owner.id, info.Key) {
			return true
		}
	}
	return false
}

func (d *debugpoints) pairInstalled(id int, req hwbp.Request) bool {
	info, ok := d.arb.Lookup(owner{id: id, pair: true}, req)
	return ok && info.State == arbiter.Installed
}

// dropOwner releases a client's debugpoints (disconnect, detach).
func (d *debugpoints) dropOwner(id int) {
	for _, o := range []owner{{id: id}, {id: id, pair: true}} {
		delete(d.pending, o)
		d.arb.Leave(o)
	}
	// The engine's numbers of its emulated debugpoints go with it: kept,
	// they would grow with every client that ever emulated one.
	for k, n := range d.watchIDs {
		if k.owner.id == id {
			delete(d.watchIDs, k)
			delete(d.watchKeys, n)
		}
	}
}

// watchHits explains a debug-exception stop: each fired slot's piece, the
// debugpoints holding it, and for each whether and where its owner is told
// (hwbp's Judge). Several hits of one client are all kept: the first is
// its stop reply, the others wait for its next resume.
func (s *Server) watchHits(ts *target.ThreadStop, fired hwbp.SlotSet) map[*client][]stopNote {
	p := s.proc
	d := p.dp
	var out map[*client][]stopNote
	pairFired := map[hwbp.Piece]bool{}
	for sl, pc := range d.slots.Fired(fired) {
		if pc.Cond == hwbp.CondWrite {
			pairFired[pc] = true
		}
		_ = sl
	}
	after := map[hwbp.Piece][]byte{}
	for sl, pc := range d.slots.Fired(fired) {
		for info := range d.arb.Holders(arbiter.Slot(sl)) {
			if info.Owner.pair {
				continue
			}
			c := s.clientByID(info.Owner.id)
			if c == nil {
				continue
			}
			req := info.Key
			ev := hwbp.Evidence{Before: d.values[pc]}
			if ev.Before != nil {
				if after[pc] == nil {
					buf := make([]byte, pc.Len)
					if n, _ := p.t.ReadMemory(pc.Addr, buf); n == len(buf) {
						after[pc] = buf
					}
				}
				ev.After = after[pc]
			}
			if req.Kind == hwbp.KindRead && d.pairInstalled(info.Owner.id, req) {
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
			if out == nil {
				out = map[*client][]stopNote{}
			}
			out[c] = append(out[c], stopNote{reason: watchReason(req.Kind), addr: v.Addr})
		}
	}
	// The stores that trapped are accounted for: a compare at a syscall
	// exit in this stop must not take them for the kernel's.
	for _, pc := range d.slots.Fired(fired) {
		if _, ok := d.values[pc]; ok {
			if now, ok := after[pc]; ok {
				d.values[pc] = now
			} else {
				buf := make([]byte, pc.Len)
				if n, _ := p.t.ReadMemory(pc.Addr, buf); n == len(buf) {
					d.values[pc] = buf
				}
			}
		}
	}
	return out
}

// kernelWrites explains a syscall-exit stop: the bytes of write and
// access watchpoints the kernel changed (read(2) into a watched buffer).
// The hardware never traps on them.
func (s *Server) kernelWrites() map[*client][]stopNote {
	p := s.proc
	d := p.dp
	var out map[*client][]stopNote
	for sl, pc := range d.slots {
		before, ok := d.values[pc]
		if !ok || pc.Cond == hwbp.CondExecute {
			continue
		}
		now := make([]byte, pc.Len)
		if n, _ := p.t.ReadMemory(pc.Addr, now); n != len(now) {
			continue
		}
		for info := range d.arb.Holders(arbiter.Slot(sl)) {
			if info.Owner.pair || info.Key.Kind == hwbp.KindRead {
				continue
			}
			req := info.Key
			v := req.Judge(pc, hwbp.Evidence{Before: before, After: now})
			if !v.Report || string(before) == string(now) {
				continue
			}
			c := s.clientByID(info.Owner.id)
			if c == nil {
				continue
			}
			d.arb.HitDebugpoint(info.Owner, req)
			if out == nil {
				out = map[*client][]stopNote{}
			}
			out[c] = append(out[c], stopNote{reason: watchReason(req.Kind), addr: v.Addr})
		}
		d.values[pc] = now
	}
	return out
}

// watchReason is the stop-reply key for a hit of a kind.
func watchReason(k hwbp.Kind) rsp.StopReason {
	switch k {
	case hwbp.KindWrite:
		return rsp.ReasonWatch
	case hwbp.KindRead:
		return rsp.ReasonReadWatch
	case hwbp.KindAccess:
		return rsp.ReasonAccessWatch
	}
	return rsp.ReasonHardwareBreak
}

// clientByID finds a live client.
func (s *Server) clientByID(id int) *client {
	for _, c := range s.clients {
		if c.id == id && c.state != clientGone {
			return c
		}
	}
	return nil
}

// noSpace handles the kernel refusing a slot (ENOSPC: another perf user
// holds it): one slot less, re-plan, and try again in a while.
func (s *Server) noSpace() bool {
	d := s.proc.dp
	n := d.arb.Capacity() - 1
	if n < 0 {
		return false
	}
	s.logf("the kernel refused a debug-register slot (another perf user holds it); planning with %d", n)
	d.arb.SetCapacity(n)
	d.capacityCheck = time.Now().Add(time.Second)
	return true
}

// replanIfRunning brings a running process to a changed plan (a client
// left, and its slots can go to others' points): the process is stopped,
// which no client is told of, and settle resumes it with the new image.
func (s *Server) replanIfRunning() {
	p := s.proc
	if p == nil || !p.running {
		return
	}
	if p.dp.arb.ChangedSlots() == 0 && !p.breaksChanged() {
		return
	}
	p.interrupt()
}
