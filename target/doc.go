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
// per optional capability (HardwareDebug, Breakpoints, SyscallTracer, ...),
// which the server checks once when it wires a target. A wrapper around a
// Process must forward each capability explicitly.
//
// target/linux implements Process with ptrace. It starts no goroutine: the
// owner's own thread (target/linux.Tracer, in the server the core loop's,
// locked to it for life) makes every ptrace call and every wait4, and owns
// the thread table and the per-thread debug-register record; events are
// made by the owner's own calls and taken with Process.NextEvent.
package target
