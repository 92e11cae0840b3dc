package swwatch

import (
	"fmt"

	"gdbserverx/target"
)

// Stats are the engine's running totals, for `monitor` output,
// benchmarks and tests that check how a hit was found.
type Stats struct {
	Faults        uint64 // page faults on protected pages served
	FalseFaults   uint64 // ... that touched no watched byte
	Emulated      uint64 // ... served without stepping (the instruction emulated)
	Undecodable   uint64 // ... whose instruction could not be decoded (value compare)
	Hits          uint64 // watch hits reported (one per watch per instruction)
	KernelWrites  uint64 // ... of them, writes by the kernel in system calls
	Steps         uint64 // single steps of the engine (faults and step mode)
	MProtects     uint64 // mprotect calls run in the process
	Injected      uint64 // system calls run in the process
	SyscallStops  uint64 // syscall entry and exit stops served
	OpenSyscalls  uint64 // system calls run with pages open while other threads ran
	InPlace       uint64 // system calls run in place, the other threads stopped
	Skipped       uint64 // system calls answered without running (futex waits on read-protected pages)
	SilentResumes uint64 // runs resumed by the engine without an event
}

// counters are the totals behind Stats. Like the rest of the engine they
// belong to the owner of the process (one thread): plain counts.
type counters struct {
	faults, falseFaults, emulated, undecodable, hits, kernelWrites uint64
	steps, mprotects, injected, syscallStops, openSyscalls         uint64
	inPlace, silent, skipped                                       uint64
}

// Stats returns the totals since New.
func (p *Process) Stats() Stats {
	c := &p.stats
	return Stats{
		Faults: c.faults, FalseFaults: c.falseFaults, Emulated: c.emulated,
		Undecodable: c.undecodable, Hits: c.hits, KernelWrites: c.kernelWrites,
		Steps: c.steps, MProtects: c.mprotects, Injected: c.injected,
		SyscallStops: c.syscallStops, OpenSyscalls: c.openSyscalls,
		InPlace: c.inPlace, SilentResumes: c.silent, Skipped: c.skipped,
	}
}

// NoteKind says what a Note is about.
type NoteKind int

// Note kinds.
const (
	// NoteUndecodable: an instruction that touched a protected page could
	// not be decoded; its writes were found by comparing values, and its
	// reads cannot be seen.
	NoteUndecodable NoteKind = iota
	// NoteStepped: a page cannot be protected; its watches are served by
	// single-stepping every thread.
	NoteStepped
	// NoteOpenSyscall: a system call that may block needed watched pages
	// open; while it ran, other threads' accesses to those pages were not
	// seen (a write among them is reported at the call's exit).
	NoteOpenSyscall
	// NoteError: the engine failed to serve a stop; the stop is reported
	// as it came.
	NoteError
	// NotePartial: an instruction touched a range that holds watched
	// bytes and that the instruction table can only bound (insn.Access
	// Partial: a masked access whose mask could not be read, XSAVEOPT,
	// a vendor whose debug hardware is not measured...): its writes
	// there were found by comparing values, its reads are reported as
	// possible reads. Once per instruction address.
	NotePartial
)

func (k NoteKind) String() string {
	switch k {
	case NoteUndecodable:
		return "undecodable"
	case NoteStepped:
		return "stepped"
	case NoteOpenSyscall:
		return "open-syscall"
	case NoteError:
		return "error"
	case NotePartial:
		return "partial"
	}
	return fmt.Sprintf("NoteKind(%d)", int(k))
}

// Note is one entry for the event log.
type Note struct {
	Kind NoteKind
	Tid  target.Tid // 0 when no thread is concerned
	PC   uint64
	Text string
}

func (n Note) String() string {
	return fmt.Sprintf("swwatch %v: thread %d pc %#x: %s", n.Kind, n.Tid, n.PC, n.Text)
}

func (e *engine) note(k NoteKind, tid target.Tid, pc uint64, text string) {
	if f := e.p.notes; f != nil {
		f(Note{Kind: k, Tid: tid, PC: pc, Text: text})
	}
}
