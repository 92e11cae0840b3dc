// Package swwatch emulates watchpoints that hold no debug-register slot
// (issue 7): write, read and access watchpoints, exact (every access to a
// watched byte, with its kind, at its instruction, in every thread,
// same-value stores and reads included), and fast where it matters: a
// program that runs at full speed and rarely touches the watched bytes.
//
// swwatch.Process wraps a target.Process: it implements target.Process
// and forwards every capability, and serves the set of watches given to
// SetWatches by itself. A hit comes back from NextEvent as a stop of its
// own (target.StopWatch, with target.WatchHit for each watch accessed,
// PC after the instruction, as a hardware trap reports it), or as
// Watches on the target.StopDebug of a single step the caller asked for
// (or of a hardware watchpoint that fired on the same instruction). With
// no watch set it adds a function call per event.
//
// # What it must not know
//
// Packets, clients, debugpoints, slots, priorities: a Watch is an
// address range, a kind and the caller's key. Of the project it imports
// target, swwatch/insn, internal/x86cpu and hwbp (for the DR6 and RFLAGS
// words it reads; internal/deps). It never writes debug registers.
//
// # Ownership
//
// The engine has no goroutine and no lock: its state belongs to the
// owner of the process it wraps (the server's core loop), and it runs
// only inside the owner's calls: Resume, NextEvent (which serves the
// engine's own stops, resumes the process after them and returns only
// what the caller must see), and the stop filter, which the target calls
// as it collects a stop.
//
// # How a watch is served
//
// Protection. The pages that hold watched bytes are protected with
// mprotect, run in the process (target.ThreadRunner.InjectSyscall, at a
// syscall instruction of the vDSO): a write watch takes the write bit, a
// read or access watch everything. The program's own protection of each
// page is read from /proc/PID/maps and followed through its mmap,
// mprotect, munmap, mremap and brk calls (run in place when they concern
// a watched page, so that no other thread runs with a stale protection).
//
// Faults. An access to a protected page stops the thread with SIGSEGV
// (SEGV_ACCERR). The instruction is decoded (swwatch/insn) and its
// accesses computed from the thread's registers; they say whether it
// read or wrote watched bytes. Then it is done without the SIGSEGV ever
// reaching the program:
//
//   - emulated (emulate.go) when it is one of the common data
//     instructions (MOV, MOVZX/SX, ALU operations with a memory operand,
//     XCHG, XADD, CMPXCHG, PUSH, POP, CALL, RET, LEAVE): memory and
//     registers are updated through the target, flags computed by the
//     same operation on this CPU (alu_amd64.s); checked against the CPU
//     on 77 forms from random states (TestEmulationMatchesCPU). Most
//     faults are emulated in the target's stop filter
//     (target.StopFilter, filter.go), during the run: no other thread
//     stops, no event is made;
//   - otherwise single-stepped with its pages open to the program's own
//     protection, every other thread stopped (ThreadRunner.StepThread),
//     and the pages protected again. If it faults again with its pages
//     open, the fault is the program's own and reaches it unchanged, as
//     does any SIGSEGV on a page the engine does not protect.
//
// An instruction the decoder does not know is stepped, and its writes
// found by comparing values (NoteUndecodable in the notes): never a
// write lost, but reads and same-value stores are not seen. So are the
// writes of a range the decoder can only bound (insn.Access Partial:
// XSAVEOPT, a masked access whose mask it cannot read, a fact of a
// vendor's debug hardware not measured), noted once per instruction
// (NotePartial). Masks, gather indices and MMX masks come from the
// register file, AVX-512 included (regs.go): the target reads them from
// the XSAVE image at this CPU's offsets, and the instruction table is
// the CPU's (insn.Host), so that an emulated watchpoint fires where a
// hardware one would on this vendor.
//
// System calls (syscall.go). The kernel's accesses fail on a protected
// page instead of trapping, so syscall entry and exit stops are on while
// a watch is set. A call whose memory arguments (a table of the common
// calls, and any argument that points into a protected page) need a
// protected page runs with that page open: in place, every other thread
// stopped, when it returns soon (a read from a regular file,
// clock_gettime); with the others running when it may block (a read from
// a pipe: NoteOpenSyscall, see Limits). What the kernel wrote (the known
// output ranges of the call, same-value writes included, and any changed
// value) is reported as a write hit at the PC after the syscall
// instruction. A futex wait on a page a read watch protects returns
// EAGAIN instead of reading it, and the waiter polls through its own
// faulting accesses. fork, vfork, clone and clone3 of a process run in
// place with every page open, so that the child (untraced) inherits the
// program's own protections. exec drops every watch.
//
// Signals (prepare.go). A signal delivered to a handler whose frame
// would land on a protected stack page is delivered with that page open
// by a single step that stops at the handler.
//
// Step mode (stepmode.go). A page the kernel writes behind the program's
// back cannot be protected: the rseq area and thread descriptor at a
// thread's thread pointer (so a __thread variable's page, errno's), and
// pages mprotect refuses. Watches there are served by single-stepping
// every resumed thread, an instruction decoded before each step, in the
// stop filter; system calls run normally, and a call into the vDSO is
// stepped over with a breakpoint at its return address (single-stepping
// clock_gettime's seqlock loop can livelock), the values compared there.
//
// The caller's own single steps, breakpoints, signals, hardware traps,
// Interrupt, exit and exec pass through, and a point may move in or out
// of the set at any stop: hits are reported after their instruction, so
// none is pending across a stop.
//
// # Cost
//
// What a fault costs follows from how it is served. An emulated fault
// costs its stop and a few register and memory transfers, in the stop
// filter, with no other thread stopped and no event made; a stepped one
// adds two mprotect calls injected into the process and a single step
// with every other thread stopped, several times the cost. A program
// that rarely touches the watched page runs at full speed between its
// faults; one whose hot data shares the page faults on every access to
// it, each a false fault. A reported hit in a dense loop costs about
// what a hardware watchpoint's does (the stop and the report dominate).
// gdb's own software watchpoint single-steps every instruction and
// compares values at each, thousands of times slower on the same loop.
//
// The figures (the benchmarks of bench_test.go, the loop of
// testdata/bench.c beside native and beside gdb's own software
// watchpoint through GNU gdbserver, scripts/gdb-swwatch.sh), with the
// commands and machines that produced them, are in bench/RESULTS.md,
// section "swwatch".
//
// # Limits
//
//   - One watch is at most MaxWatchLen bytes (1 MiB): the engine keeps a
//     copy of it, and its pages are walked at system call exits. Up to
//     that length a watch costs what a short one does, but for the
//     copy and the pages protected when it is set; a store into it
//     refreshes only the bytes stored.
//   - A call that may block and needs a protected page (a read from a
//     pipe or socket into a watched buffer, a poll array on a watched
//     page) runs with the page open while the other threads run: their
//     accesses to that page meanwhile are not seen one by one; a change
//     they made is reported at the call's exit as its write
//     (NoteOpenSyscall). Single-threaded programs are exact.
//   - Reads by the kernel (write(2) from a watched buffer) are not
//     reported; writes are.
//   - A signal frame on an alternate signal stack (sigaltstack) that is
//     a protected page is not opened for; nor does the engine follow
//     PKU, io_uring or AIO writes, or another process writing shared
//     memory (the hardware does not see those either).
//   - CALL and RET are stepped, not emulated, under a CET shadow stack.
//   - The emulator does not do SSE/AVX moves (memcpy's): they are
//     stepped, the slower path (FaultPaths in bench/RESULTS.md).
package swwatch
