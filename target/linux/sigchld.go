package linux

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// How the owner thread learns that a tracee changed state without a
// second thread: every ptrace-stop and every exit of a tracee sends
// SIGCHLD to its tracer (kernel/signal.c do_notify_parent_cldstop,
// do_notify_parent), and SIGCHLD's handler is a few instructions of
// assembly (sigchld_amd64.s) that write to an eventfd per Tracer. The
// owner thread polls that eventfd beside its sockets; when it is
// readable, Tracer.Pump clears it and collects the statuses with wait4
// WNOHANG until none is left. A status that arrives after the last wait4
// writes the eventfd again, so none is ever left unseen (the race that a
// plain "EINTR from poll" design has between the last wait4 and the next
// poll).
//
// The handler replaces the Go runtime's own for SIGCHLD, which only
// forwards it to os/signal: nothing in the server may use
// signal.Notify(SIGCHLD) (it would put the runtime's back; installHandler
// checks at every NewTracer). The kernel prefers the tracer's thread for
// the signal (kernel/signal.c complete_signal: the suggested task first),
// so the handler usually runs on the owner thread itself, interrupting
// its poll(2).
//
// Measured when this was chosen (a locked thread single-stepping a
// tracee, pinned to one CPU), the poll and the handler cost about as much
// CPU per step as a blocking wait4, with as many context switches, and
// unlike wait4 they let the thread serve its sockets meanwhile: the
// figures are in bench/RESULTS.md, section "target/linux".

// maxNotifyFDs bounds the Tracers of one server that can be woken at
// once (the server has one; tests may have several).
const maxNotifyFDs = 64

var (
	// notifyFDs are the eventfds the handler writes, -1 for a free
	// entry. Entries are written under notifyMu and read by the handler
	// at any time; an eventfd is never closed once registered (a late
	// write from a handler that loaded the entry before it was cleared
	// must not land in another file that reused the number): it goes
	// back to spareFDs.
	notifyFDs [maxNotifyFDs]int32
	eventOne  uint64 = 1
	notifyMu  sync.Mutex
	spareFDs  []int32
	installed bool
)

func init() {
	for i := range notifyFDs {
		notifyFDs[i] = -1
	}
}

// sigchldHandler and sigreturn are in sigchld_amd64.s.
func sigchldHandler()
func sigreturn()
func handlerAddrs() (handler, restorer uintptr)

// kernelSigaction is struct sigaction as x86-64's rt_sigaction takes it.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	saSiginfo  = 0x4
	saOnstack  = 0x08000000
	saRestart  = 0x10000000
	saRestorer = 0x04000000
)

// notifier is one Tracer's eventfd, registered with the handler.
type notifier struct {
	fd   int32
	slot int
}

// newNotifier registers an eventfd with the SIGCHLD handler, installing
// the handler first if it is not (or no longer) in place.
func newNotifier() (*notifier, error) {
	notifyMu.Lock()
	defer notifyMu.Unlock()
	if err := installHandler(); err != nil {
		return nil, err
	}
	slot := -1
	for i := range notifyFDs {
		if atomic.LoadInt32(&notifyFDs[i]) < 0 {
			slot = i
			break
		}
	}
	if slot < 0 {
		return nil, fmt.Errorf("more than %d tracers at once", maxNotifyFDs)
	}
	var fd int32
	if n := len(spareFDs); n > 0 {
		fd, spareFDs = spareFDs[n-1], spareFDs[:n-1]
	} else {
		f, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("eventfd: %w", err)
		}
		fd = int32(f)
	}
	atomic.StoreInt32(&notifyFDs[slot], fd)
	return &notifier{fd: fd, slot: slot}, nil
}

// clear consumes what the handler wrote.
func (n *notifier) clear() {
	var b [8]byte
	syscall.RawSyscall(unix.SYS_READ, uintptr(n.fd), uintptr(unsafe.Pointer(&b[0])), 8)
}

// release unregisters the eventfd and keeps it for the next notifier.
func (n *notifier) release() {
	notifyMu.Lock()
	defer notifyMu.Unlock()
	atomic.StoreInt32(&notifyFDs[n.slot], -1)
	spareFDs = append(spareFDs, n.fd)
}

// installHandler makes sigchldHandler SIGCHLD's handler, unless it is
// already. Called with notifyMu held.
func installHandler() error {
	handler, restorer := handlerAddrs()
	var cur kernelSigaction
	sz := unsafe.Sizeof(cur.mask)
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&cur)), sz, 0, 0); e != 0 {
		return fmt.Errorf("read SIGCHLD action: %w", e)
	}
	if cur.handler == handler {
		return nil
	}
	if installed {
		// Someone (signal.Notify(SIGCHLD)) put another handler in place:
		// events would no longer wake the owner threads.
		return errors.New("SIGCHLD handler replaced behind the tracer's back (signal.Notify of SIGCHLD?)")
	}
	// SA_RESTART as the Go runtime's own handlers: a system call of
	// another thread that the signal interrupts goes on (poll(2) and
	// epoll never restart: they return EINTR, which the owner loop
	// expects). No SA_NOCLDSTOP: stops must send SIGCHLD.
	act := kernelSigaction{
		handler:  handler,
		flags:    saSiginfo | saOnstack | saRestart | saRestorer,
		restorer: restorer,
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), uintptr(unsafe.Pointer(&act)), 0, sz, 0, 0); e != 0 {
		return fmt.Errorf("install SIGCHLD handler: %w", e)
	}
	installed = true
	return nil
}
