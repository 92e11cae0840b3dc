package swwatch

import (
	"errors"
	"fmt"
	"slices"

	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// Kind is what a watchpoint watches: Write, Read or Access (both).
type Kind = target.WatchKind

// Watch kinds.
const (
	Write  = target.WatchWrite
	Read   = target.WatchRead
	Access = target.WatchAccess
)

// Watch is one emulated watchpoint: Len bytes at Addr, of kind Kind, and
// the key its owner knows it by.
type Watch struct {
	ID   uint64 // the server's key, reported back in target.WatchHit
	Addr uint64
	Len  uint64
	Kind Kind
}

// End is the first byte past the watched range.
func (w Watch) End() uint64 { return w.Addr + w.Len }

func (w Watch) String() string {
	return fmt.Sprintf("%v watch %d at %#x+%d", w.Kind, w.ID, w.Addr, w.Len)
}

// ErrBadWatch wraps every refusal of SetWatches.
var ErrBadWatch = errors.New("bad watch")

// MaxWatchLen is the longest range one watch may have: the engine holds
// a copy of every watched range and compares it where a write may have
// gone unseen (system call exits, instructions it cannot decode). It is
// also the longest watchpoint the server accepts (a longer Z2-Z4 gets
// E16 at once).
const MaxWatchLen = 1 << 20

func (w Watch) check() error {
	switch {
	case w.Kind != Write && w.Kind != Read && w.Kind != Access:
		return fmt.Errorf("%w: watch %d: kind %v", ErrBadWatch, w.ID, w.Kind)
	case w.Len == 0 || w.Len > MaxWatchLen:
		return fmt.Errorf("%w: watch %d: length %d (1 to %d)", ErrBadWatch, w.ID, w.Len, MaxWatchLen)
	case w.Addr >= userLimit || w.Len > userLimit-w.Addr:
		return fmt.Errorf("%w: watch %d: %#x+%d is not in user space", ErrBadWatch, w.ID, w.Addr, w.Len)
	}
	return nil
}

// watch is a Watch with the engine's copy of its bytes.
type watch struct {
	Watch
	// last is the value as the engine last saw it: at SetWatches, after
	// each instruction or system call that may have written it, and
	// after a write by the server. A system call exit that finds another
	// value reports a write by the kernel. nil while unreadable.
	last []byte
}

// need is the protection a watch's pages lose: the write bit for a write
// watch; everything for a read or access watch (on x86 a page that can
// be executed can be read, so the exec bit goes too).
func (w *watch) need() int {
	if w.Kind == Write {
		return protWrite
	}
	return protRead | protWrite | protExec
}

// sameWatches says whether two sets are equal, in any order.
func sameWatches(a []watch, b []Watch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range b {
		if a[i].Watch != b[i] {
			return false
		}
	}
	return true
}

// sortWatches sorts by address, then ID: the engine's order.
func sortWatches(ws []Watch) {
	slices.SortFunc(ws, func(a, b Watch) int {
		switch {
		case a.Addr != b.Addr:
			return cmpU64(a.Addr, b.Addr)
		case a.Len != b.Len:
			return cmpU64(a.Len, b.Len)
		}
		return cmpU64(a.ID, b.ID)
	})
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// watchSet is the engine's watches, sorted by address, each with the
// engine's copy of its bytes: what is watched, and what it held when
// last seen. Its methods answer from the set alone, reading memory
// through an emuIO (the event path's processIO, or the stop filter's
// thread).
type watchSet []watch

// hits returns the watch hits of an instruction's accesses, appended to
// dst.
func (ws watchSet) hits(acc []insn.Access, dst []target.WatchHit) []target.WatchHit {
	for i := range ws {
		w := &ws[i]
		var kind target.WatchKind
		var at uint64
		for _, a := range acc {
			if a.Size <= 0 || a.Addr >= w.End() || w.Addr >= a.End() {
				continue
			}
			var did target.WatchKind
			if a.Read {
				did |= target.WatchRead
			}
			if a.Write && !a.Partial {
				did |= target.WatchWrite
			}
			if did&w.Kind == 0 {
				continue
			}
			first := max(a.Addr, w.Addr)
			if kind == 0 || first < at {
				at = first
			}
			kind |= did & w.Kind
		}
		if kind != 0 {
			dst = append(dst, target.WatchHit{ID: w.ID, Kind: kind, Addr: at})
		}
	}
	return dst
}

// refresh takes the new values of the bytes of [addr, addr+n) into the
// copies of the watches they overlap: a write the engine saw (or the
// server made) is accounted for, and nothing else. Only those bytes are
// read, so that a store into a long watch (up to MaxWatchLen) costs no
// more than one into a short one; and a change elsewhere in the watch
// that the engine did not see is left for a later compare to report,
// rather than taken in silently.
func (ws watchSet) refresh(io emuIO, addr, n uint64) {
	for i := range ws {
		w := &ws[i]
		lo, hi := max(w.Addr, addr), min(w.End(), addr+n)
		if lo >= hi {
			continue
		}
		if w.last == nil {
			w.last = readWith(io, w.Addr, w.Len)
			continue
		}
		if _, err := io.ReadMemory(lo, w.last[lo-w.Addr:hi-w.Addr]); err != nil {
			w.last = nil // unreadable, as readWith would have found
		}
	}
}

// changed compares the watches that pick selects (those whose bytes may
// have changed) with their copies, takes the new values, and returns a
// write hit for each Write or Access watch that changed (the hits not
// already in dst).
func (ws watchSet) changed(io emuIO, pick func(*watch) bool, dst []target.WatchHit) []target.WatchHit {
	for i := range ws {
		w := &ws[i]
		if !pick(w) {
			continue
		}
		now := readWith(io, w.Addr, w.Len)
		if now == nil || w.last == nil || string(now) == string(w.last) {
			w.last = now
			continue
		}
		at := w.Addr
		for j := range now {
			if now[j] != w.last[j] {
				at = w.Addr + uint64(j)
				break
			}
		}
		w.last = now
		if w.Kind&target.WatchWrite == 0 {
			continue
		}
		seen := false
		for k := range dst {
			if dst[k].ID == w.ID {
				dst[k].Kind |= target.WatchWrite
				seen = true
			}
		}
		if !seen {
			dst = append(dst, target.WatchHit{ID: w.ID, Kind: target.WatchWrite, Addr: at})
		}
	}
	return dst
}

// overlaps says whether a overlaps a watch.
func (ws watchSet) overlaps(a insn.Access) bool {
	for i := range ws {
		if w := ws[i].Watch; a.Addr < w.End() && w.Addr < a.End() {
			return true
		}
	}
	return false
}

// overlapping picks, for watchSet.changed, the watches that overlap one
// of ranges; nil ranges picks all.
func overlapping(ranges []insn.Access) func(*watch) bool {
	return func(w *watch) bool { return ranges == nil || overlapsAny(w.Watch, ranges) }
}

func overlapsAny(w Watch, ranges []insn.Access) bool {
	for _, a := range ranges {
		if a.Addr < w.End() && w.Addr < a.End() {
			return true
		}
	}
	return false
}

// readWith returns n bytes at addr, or nil if they cannot be read.
func readWith(io emuIO, addr, n uint64) []byte {
	b := make([]byte, n)
	if _, err := io.ReadMemory(addr, b); err != nil {
		return nil
	}
	return b
}
