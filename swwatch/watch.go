package swwatch

import (
	"errors"
	"fmt"
	"slices"

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
