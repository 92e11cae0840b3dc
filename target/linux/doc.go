// Package linux implements target.Process for x86-64 Linux with ptrace.
//
// It knows processes, not packets: it must not import the server, rsp or
// arbiter packages. Debug registers arrive as plain words, written as
// given; the few bits it reads itself (DR6.BS, DR7's enable bits,
// RFLAGS.TF and RF) are hwbp's named words, the one home of x86
// debug-register facts.
//
// # Ownership
//
// A Tracer is one OS thread: the goroutine that calls NewTracer is locked
// to its thread for good, and it makes every ptrace call and every wait4
// of every process the Tracer launches or attaches (ptrace binds a
// tracee to the thread that attached it; wait4 with __WALL|__WNOTHREAD
// sees only that thread's tracees). Every method of the Tracer and of its
// processes must be called on that thread; nothing here starts a
// goroutine, and no lock guards a Tracer's or a process's state (tests
// check the owner: checkOwner). The only locks guard two tables of the
// whole server process that every Tracer shares: the eventfds the
// SIGCHLD handler writes (sigchld.go) and the signal dispositions
// changed for a fork (launch.go, catchIgnored). In the
// server, that goroutine is the core loop, so that a packet, the ptrace
// calls it needs and the reply happen on one thread with no hand-off.
//
// Events arrive without a second thread and without blocking: SIGCHLD's
// handler (sigchld.go, a few instructions of assembly) writes an eventfd
// per Tracer; the owner polls EventFd beside its other descriptors and
// calls Pump, which collects every status with wait4 WNOHANG, routes each
// to its process by tid, and completes the stops; then each process's
// events are taken with NextEvent. Nothing waits for a tracee but Launch
// and Attach (for its first stop), a fork, vfork or clone event (for the
// new child's first stop, which the kernel sends with the event), and
// the ThreadRunner calls, which run one stopped thread for one
// instruction.
//
// # Launch
//
// PTRACE_SEIZE needs the process to exist, stopped, before the program's
// execve. Launch starts a copy of the running binary (/proc/self/exe) with
// an environment variable that makes this package's init run a
// trampoline: it takes its settings from a memfd, disables address
// randomization if asked, stops itself with SIGSTOP, and once seized
// resets signal dispositions and calls execve (of `$SHELL -c "exec PROG
// ARGS"` with startup-with-shell; the shell's own exec event passes by).
// With startup-with-shell and a POSIX shell (sh, bash, dash, zsh, ksh) no
// trampoline is needed: the shell runs `kill -STOP $$ && exec PROG ARGS`,
// stops itself and is seized there, which spares the server's start a
// second Go runtime (milliseconds: bench/RESULTS.md); the owner thread
// sets the personality the shell inherits, and ignored signals are
// caught for the fork so that the shell starts with them at their
// defaults (forkShell).
// It runs in a process group of its own and shares the server's stdin,
// stdout and stderr; the terminal's foreground goes to it when the server
// had it, as with gdbserver. The program's PTRACE_EVENT_EXEC stop is the
// first stop.
//
// # Registers
//
// The register file is gdb's amd64 Linux layout (regs.go), with the
// feature groups the process has: at its first stop one NT_X86_XSTATE
// read gives the kernel's XSAVE mask for the process (XCR0's user part,
// at byte 464 of the image) and the image's size; x87, SSE, the Linux
// and segment-base registers always, AVX (ymm0h-15h), AVX-512 (xmm16-31,
// ymm16h-31h, k0-7, zmm0h-31h) and PKU (pkru) where the mask enables
// them and this CPU describes them. Each register beyond SSE is read and
// written at the offset this CPU's CPUID leaf 0xD gives for its state
// component (x86cpu): the kernel's image is the standard XSAVE format at
// those offsets, which differ between vendors (AMD's AVX-512 state sits
// 256 bytes lower than Intel's, no MPX); GNU gdbserver 13 assumes
// Intel's and is wrong on AMD. A component in its initial state
// (XSTATE_BV bit clear) reads as zeros; a write puts the whole component
// back and sets its XSTATE_BV bit, with PTRACE_SETREGSET before the
// thread resumes. Without an XSAVE image (an old CPU or kernel) x87 and
// SSE come from PTRACE_GETFPREGS.
//
// # Stops
//
// The process is all-stop. After an event in one thread the others are
// stopped with PTRACE_INTERRUPT, and the event is queued once the last
// has reported (their stops come through Pump like any other). A thread
// that reports a real event instead adds a stop to the event; the
// interrupt trap it may still report later is swallowed. Before an
// interrupted thread is counted as stopped for no reason, a debug trap
// already queued for it (an int3, a watchpoint, a step that completed as
// the interrupt came) is collected, so that it is not reported a run
// late.
//
// Interrupt sends PTRACE_INTERRUPT to every running thread the same way;
// a thread in a group-stop (PTRACE_LISTEN) reports it too.
//
// A group-stop (a stop signal delivered to the program) is not an event:
// the thread is restarted with PTRACE_LISTEN, so the program stays stopped
// by job control until SIGCONT, as it would without a debugger. Resuming a
// group-stopped thread with Step or with a signal runs it anyway.
//
// Fork and vfork children are detached at once, without the parent's
// breakpoints (a vfork child shares the memory: the int3s are lifted until
// the vfork is done). Debug registers are not inherited by a fork child.
//
// # One thread for a moment, and the stop filter
//
// For software watchpoints (package swwatch) the tracer also runs one
// thread while the world stays stopped, with no event (inject.go): a
// single step (StepThread), or a system call injected at a syscall
// instruction of the vDSO with the thread's registers put back after
// (InjectSyscall). A thread stopped inside a system call at a ptrace
// event (exec, clone) is first taken to the call's exit, where rax holds
// its result; asynchronous signals are held back with PTRACE_SETSIGMASK
// while the thread runs, unless the step is a system call or delivers a
// signal, which must find the program's own mask. Syscall-entry stops
// can be reported (TraceSyscallEntries). And during a run, a stop that
// would stop the world is first offered to a stop filter, as Pump
// collects it (filter.go): the filter may serve it with the thread's
// registers and the memory, and the thread goes on; no other thread
// stops and no event is made. A signal of the set given to PassSignals
// is delivered the same way, in the thread that receives it, when that
// thread continues (passsig.go); a stepped thread, or any thread while
// the world stops, reports it.
//
// # What the system says about the process
//
// The capabilities that are facts rather than control (target/facts.go)
// are the methods of Process's embedded facts (facts.go), which read
// where Linux and the System V ABI keep them: the auxiliary vector and
// the executable (/proc/PID/auxv, /proc/PID/exe), the dynamic linker's
// r_debug and link_map chain found through AT_PHDR, PT_DYNAMIC and
// DT_DEBUG in the process's memory (svr4.go; glibc's <link.h>), the
// executable's ELF symbol table relocated by the load bias (symbols.go;
// read once, again after an exec), the parent and ids in
// /proc/PID/status, each thread's comm and the processor field of its
// stat (internal/procfs), and /proc/PID/root. None needs the process
// stopped, and none reads /proc once the process has ended (its pid may
// be another's by then).
//
// Kernel facts the code depends on are in docs/x86-debug-registers.md.
package linux
