package linux

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Every ptrace-stop of a tracee sends SIGCHLD to the tracer's process
// unless SIGCHLD's action has SA_NOCLDSTOP (kernel/signal.c
// do_notify_parent_cldstop); wait4 wakes either way. The Go runtime
// installs a handler that ignores SIGCHLD, so each stop cost a signal
// delivery, the runtime's handler and a sigreturn on some thread of the
// server, for nothing. The tracers set SA_NOCLDSTOP on the runtime's
// action (the handler itself is kept) and clear it only while a tracer
// waits for SIGCHLD in listenWait, where a stop must wake it. Exits still
// send SIGCHLD.

// kernelSigaction is struct sigaction as x86-64's rt_sigaction takes it.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const saNoCldStop = 1 // SA_NOCLDSTOP

var sigchldState struct {
	mu        sync.Mutex
	listeners int  // tracers in listenWait
	quiet     bool // SA_NOCLDSTOP is set
}

// quietStops sets SA_NOCLDSTOP unless a tracer listens for SIGCHLD.
func quietStops() {
	s := &sigchldState
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listeners == 0 && !s.quiet {
		s.quiet = setNoCldStop(true) == nil
	}
}

// listenSIGCHLD makes every ptrace-stop send SIGCHLD until the returned
// function is called.
func listenSIGCHLD() (done func()) {
	s := &sigchldState
	s.mu.Lock()
	s.listeners++
	if s.quiet && setNoCldStop(false) == nil {
		s.quiet = false
	}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.listeners--
		s.mu.Unlock()
		quietStops()
	}
}

// setNoCldStop sets or clears SA_NOCLDSTOP in SIGCHLD's current action.
func setNoCldStop(on bool) error {
	var act kernelSigaction
	sz := unsafe.Sizeof(act.mask)
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&act)), sz, 0, 0); e != 0 {
		return e
	}
	if on {
		act.flags |= saNoCldStop
	} else {
		act.flags &^= saNoCldStop
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), uintptr(unsafe.Pointer(&act)), 0, sz, 0, 0); e != 0 {
		return e
	}
	return nil
}
