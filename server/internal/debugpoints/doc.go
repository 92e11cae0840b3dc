// Package debugpoints holds the hardware breakpoints and watchpoints
// (Z1-Z4) of one process, for every client: it owns the arbiter that
// shares the debug-register slots among them, the z packets not applied
// yet, the debug-register image the threads are given, the emulated set
// handed to the software-watchpoint engine, and the judgement of a stop's
// hits. The server keeps only the glue: it finds the client behind an
// owner id, words and sends the notices, and calls the target.
//
// # From a Z packet to the debug registers, and back
//
//   - Insert (Z1-Z4): hwbp cuts the request into aligned pieces (the
//     fewest slots for a write watchpoint, whose widened bytes a value
//     check filters; exactly gdbserver's pieces under the error policy),
//     the arbiter admits them at the owner's priority and commits at
//     once, so that a refusal comes back on that very Z (gdbserver's
//     E01). A read watchpoint gets a write pair (hwbp, "Read
//     watchpoints"): a second owner at the client's priority with the
//     suspend policy, inserted after it, so that it gives way first.
//   - Remove (z1-z4) is only noted: gdb removes every point after a stop
//     and inserts them again before it resumes, so a Z of a noted point
//     takes the note back and the pair costs nothing: no commit, no
//     debug-register write, no notice (DESIGN.md, "What gdb actually
//     does on the wire").
//   - Plan, just before the process resumes: the noted removals are
//     applied, a slot the kernel refused is tried again after a while,
//     the arbiter commits, and the slots become the Image every thread
//     is to hold, the emulated watchpoints the engine's set, and the
//     syscall-exit stops on or off (the kernel's own writes into a
//     hardware-watched buffer raise no trap). The server gives the plan
//     to the target, then Applied records it and copies the bytes the
//     next stop's value checks compare against.
//   - NoSpace: the kernel refused a slot (ENOSPC, another perf user
//     holds one): the arbiter plans with one slot less, and the server
//     plans again.
//   - DebugStop, EmulatedHits, KernelWrites: a stop's DR6 (against the
//     image the thread ran with), the engine's hits, or the bytes the
//     kernel changed at a syscall exit become Hits, one per owner told:
//     each fired piece's holders are judged by hwbp (Request.Judge, with
//     the values before and after, and whether a read watchpoint's pair
//     fired).
//
// Every commit returns its Changes: each debugpoint whose state changed,
// with the facts its notice names as they were at that commit (who holds
// the slots, whether it is too long for them, whether its owner is
// pinned, the slots it took), so that the server words the notices
// without asking again.
//
// # What it must not know
//
// Clients, packets and the target: an owner is a client's id, a request a
// hwbp.Request, memory an interface with ReadMemory. It never calls the
// target to change it; what the target must hold comes back as a Plan.
//
// # Who owns the state
//
// A Set belongs to the server's core loop, one per process (a new one
// after an exec). It is not safe for concurrent use.
//
// # Limits
//
// What one client may make a Set keep is bounded: MaxPoints debugpoints
// and MaxBytes watched bytes (a Z past them gets ErrLimit, E1c), each at
// most swwatch.MaxWatchLen long (ErrTooLong, E16). The engine's numbers
// of a client's emulated watchpoints go when the client leaves.
package debugpoints
