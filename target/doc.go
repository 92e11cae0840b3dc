// Package target is the debuggee behind an interface: threads, registers
// (with the register layout that target.xml and the g packet are built
// from), memory, run control, per-thread debug registers and events.
//
// It knows processes, not packets: thread ids are kernel tids, signals are
// Linux signal numbers, and debug registers cross as plain values
// (DebugRegisters has hwbp.Image's shape) whose bits the hwbp package
// defines; the write planner (PlanDebugWrites) asks hwbp which slots a DR7
// word enables and nothing more. The server translates all of these to
// and from the wire.
//
// A small required interface (Process) is extended by one small interface
// per optional capability, which the server checks once when it wires a
// target. A wrapper around a Process must forward each capability
// explicitly. The capabilities are:
//
//   - run control and state (target.go): GeneralRegisterReader,
//     HardwareDebug, Breakpoints, SyscallTracer, SyscallEntryTracer,
//     SyscallCatcher (syscalls.go), SigInfoWriter (siginfo.go),
//     ThreadRunner, StopFilter, Counter, NonStop, ForkFollower,
//     SignalPasser (signals delivered during a run without a stop);
//   - what the operating system and the program's files say about the
//     process (facts.go): AuxvReader, ExecFile, LibraryLister (the
//     dynamic linker's list, as glibc's <link.h> lays it out),
//     Symbolizer (the executable's symbols), ProcessInfoReader (parent,
//     ids, target triple), ThreadInfo (a thread's name and the CPU it
//     last ran on), ProcessFiles (the host files that are the process's
//     own, for the confinement of vFile), FileRoot (where the process's
//     files are), MemoryRegionReader (what is mapped at an address) and
//     TLSResolver (a thread's thread-local variables, tls.go). Their
//     values are plain facts; where they live (auxv, link maps, ELF,
//     /proc) is the implementation's knowledge, and the wire formats are
//     the server's;
//   - what the system says beside any process (osdata.go): OSDataReader
//     (gdb's `info os` tables), a capability of the server's backend,
//     since gdb asks for it before any process exists.
//
// target/linux implements Process with ptrace. It starts no goroutine: the
// owner's own thread (target/linux.Tracer, in the server the core loop's,
// locked to it for life) makes every ptrace call and every wait4, and owns
// the thread table and the per-thread debug-register record; events are
// made by the owner's own calls and taken with Process.NextEvent.
package target
