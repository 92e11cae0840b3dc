// Package linux implements target.Process for x86-64 Linux with ptrace.
//
// It knows processes, not packets: it must not import the server, rsp,
// hwbp or arbiter packages. Debug registers arrive as plain words.
//
// # Ownership
//
// One tracer goroutine per process, locked to its OS thread for life,
// makes every ptrace call and every wait4, and owns the thread table, the
// register caches and each thread's record of its debug registers. Other
// goroutines talk to it with typed requests on a channel, served while the
// process is stopped. While the process runs the tracer blocks in wait4
// (__WALL|__WNOTHREAD: its own tracees only, so several processes can be
// traced at once), and the only things other goroutines do then are
// goroutine-safe and ptrace-free: Interrupt, Kill (SIGKILL through a
// pidfd), and memory access (process_vm_readv and /proc/PID/mem, with the
// breakpoint table, in the memory type under its own lock).
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
// second Go runtime (about 3 ms); the tracer thread sets the personality
// the shell inherits, and ignored signals are caught for the fork so
// that the shell starts with them at their defaults (forkShell).
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
// The process is all-stop. After an event in one thread the tracer stops
// the others with PTRACE_INTERRUPT. A thread that reports a real event
// instead adds a stop to the event; the interrupt trap it may still report
// later is swallowed. Before an interrupted thread is counted as stopped
// for no reason, a debug trap already queued for it (an int3, a
// watchpoint, a step that completed as the interrupt came) is collected,
// so that it is not reported a run late.
//
// Interrupt rings a doorbell: a SIGSTOP (which cannot be blocked) to the
// process, which the kernel gives to a thread that can take it; it is
// counted so that the tracer recognises it, never delivers it, and
// swallows one that arrives after another event stopped the world.
//
// A group-stop (a stop signal delivered to the program) is not an event:
// the thread is restarted with PTRACE_LISTEN, so the program stays stopped
// by job control until SIGCONT, as it would without a debugger. While
// every resumed thread is listening no thread can take a doorbell, so the
// tracer waits on SIGCHLD and a token Interrupt leaves instead. Resuming a
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
// would stop the world is first offered to a stop filter, on the tracer
// goroutine (filter.go): the filter may serve it with the thread's
// registers and the memory, and the thread goes on; no other thread
// stops and no event is made.
//
// Kernel facts the code depends on are in docs/x86-debug-registers.md.
package linux
