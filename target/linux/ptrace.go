package linux

import (
	"errors"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel answers the tracer expects and acts on (STYLE.md 6): they are
// named here, not discovered at the call sites.
var (
	// errThreadGone is ESRCH from a ptrace call: the thread has exited
	// (or is exiting, or is a zombie leader) since we last saw it. Its
	// exit status, if any, arrives through wait4.
	errThreadGone = unix.ESRCH
	// errNoSpace is ENOSPC from a debug-register write: another perf user
	// holds the breakpoint slot. The kernel rolled DR7 back.
	errNoSpace = unix.ENOSPC
)

// Ptrace requests and wait flags not named by x/sys/unix.
const (
	ptraceGetFPRegs = 14 // PTRACE_GETFPREGS
	ptraceSetFPRegs = 15 // PTRACE_SETFPREGS

	waitAll = unix.WALL | unix.WNOTHREAD // every tracee of this OS thread only

	// offsetDebugReg is offsetof(struct user, u_debugreg) on x86-64
	// (arch/x86/include/asm/user_64.h).
	offsetDebugReg = 848

	siKernel   = 0x80 // si_code SI_KERNEL: int3
	siTkill    = -6   // si_code SI_TKILL: tgkill
	siUser     = 0    // si_code SI_USER: kill
	trapBrkpt  = 1    // si_code TRAP_BRKPT: a step reported at a syscall's exit
	trapTrace  = 2    // si_code TRAP_TRACE: single step
	trapHwbkpt = 4    // si_code TRAP_HWBKPT: debug register hit
	// siPtraceNotify is the si_code of a ptrace_notify(SIGTRAP) stop: a
	// step that delivered a signal, at the handler's first instruction.
	siPtraceNotify = 5

	siginfoSize = 128
)

// counters are the running totals behind target.Counts, kept by the
// Tracer's thread.
type counters struct {
	calls, drWrites, waits, stops, filtered, passed uint64
}

// The system calls the Tracer's thread makes on every stop (ptrace, wait4
// without waiting, process_vm_readv, the /proc/PID/mem pread and pwrite)
// are raw: none of them blocks, and through the scheduler's syscall path
// each was a chance for the runtime's monitor to take the thread's P and
// wake another thread to place it (9.7 nanosleeps and 3.6 futex calls of
// the runtime per breakpoint stop, strace -c). See server/server.go,
// pollFds. The calls that wait (wait4 for one thread, at a launch or an
// injected step) keep the scheduler's path.

// ptrace makes one ptrace(2) request, on the Tracer's thread.
func (c *counters) ptrace(req int, tid int, addr, data uintptr) error {
	c.calls++
	_, _, e := syscall.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func (c *counters) ptracePtr(req int, tid int, addr uintptr, data unsafe.Pointer) error {
	c.calls++
	_, _, e := syscall.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, uintptr(data), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func (c *counters) getRegs(tid int, r *unix.PtraceRegs) error {
	return c.ptracePtr(unix.PTRACE_GETREGS, tid, 0, unsafe.Pointer(r))
}

func (c *counters) setRegs(tid int, r *unix.PtraceRegs) error {
	return c.ptracePtr(unix.PTRACE_SETREGS, tid, 0, unsafe.Pointer(r))
}

// getRegset reads regset nt into buf and returns the length the kernel
// filled.
func (c *counters) getRegset(tid int, nt int, buf []byte) (int, error) {
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	if err := c.ptracePtr(unix.PTRACE_GETREGSET, tid, uintptr(nt), unsafe.Pointer(&iov)); err != nil {
		return 0, err
	}
	return int(iov.Len), nil
}

func (c *counters) setRegset(tid int, nt int, buf []byte) error {
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	return c.ptracePtr(unix.PTRACE_SETREGSET, tid, uintptr(nt), unsafe.Pointer(&iov))
}

func (c *counters) getSiginfo(tid int, buf *[siginfoSize]byte) error {
	return c.ptracePtr(unix.PTRACE_GETSIGINFO, tid, 0, unsafe.Pointer(buf))
}

func (c *counters) eventMsg(tid int) (uint64, error) {
	var msg uint64
	err := c.ptracePtr(unix.PTRACE_GETEVENTMSG, tid, 0, unsafe.Pointer(&msg))
	return msg, err
}

// peekDebugReg reads debug register n (0-7) of a stopped thread.
func (c *counters) peekDebugReg(tid int, n int) (uint64, error) {
	var v uint64
	err := c.ptracePtr(unix.PTRACE_PEEKUSR, tid, uintptr(offsetDebugReg+8*n), unsafe.Pointer(&v))
	return v, err
}

// pokeDebugReg writes debug register n of a stopped thread.
func (c *counters) pokeDebugReg(tid int, n int, v uint64) error {
	c.drWrites++
	return c.ptrace(unix.PTRACE_POKEUSR, tid, uintptr(offsetDebugReg+8*n), uintptr(v))
}

// syscallInfo is the head of struct ptrace_syscall_info (linux/ptrace.h).
type syscallInfo struct {
	Op     uint8
	_      [3]uint8
	Arch   uint32
	IP     uint64
	SP     uint64
	NrRval uint64 // entry: syscall number; exit: return value
	rest   [7]uint64
}

func (c *counters) syscallOp(tid int) (uint8, error) {
	var si syscallInfo
	err := c.ptracePtr(unix.PTRACE_GET_SYSCALL_INFO, tid, unsafe.Sizeof(si), unsafe.Pointer(&si))
	return si.Op, err
}

// peekSiginfoArgs is struct ptrace_peeksiginfo_args.
type peekSiginfoArgs struct {
	Off   uint64
	Flags uint32
	Nr    int32
}

// pendingSignals copies up to len(buf) siginfos queued for the thread
// (its private queue, or the process's shared one) and returns how many.
func (c *counters) pendingSignals(tid int, shared bool, buf [][siginfoSize]byte) (int, error) {
	args := peekSiginfoArgs{Nr: int32(len(buf))}
	if shared {
		args.Flags = 1 // PTRACE_PEEKSIGINFO_SHARED
	}
	c.calls++
	n, _, e := syscall.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_PEEKSIGINFO, uintptr(tid),
		uintptr(unsafe.Pointer(&args)), uintptr(unsafe.Pointer(&buf[0])), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// wait4 waits for any tracee or child of the calling OS thread. block
// false returns pid 0 at once when nothing is ready.
func (c *counters) wait4(pid int, block bool) (int, unix.WaitStatus, error) {
	var ws unix.WaitStatus
	opts := waitAll
	if !block {
		opts |= unix.WNOHANG
	}
	for {
		var wpid int
		var err error
		if block {
			wpid, err = unix.Wait4(pid, &ws, opts, nil)
		} else {
			wpid, err = wait4NoHang(pid, &ws, opts)
		}
		if err == unix.EINTR {
			continue
		}
		if err == nil && wpid > 0 {
			c.waits++
		}
		return wpid, ws, err
	}
}

// wait4NoHang is wait4 with WNOHANG in opts, raw.
func wait4NoHang(pid int, ws *unix.WaitStatus, opts int) (int, error) {
	var status int32
	r, _, e := syscall.RawSyscall6(unix.SYS_WAIT4, uintptr(pid), uintptr(unsafe.Pointer(&status)), uintptr(opts), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	*ws = unix.WaitStatus(status)
	return int(r), nil
}

// stopEvent is the PTRACE_EVENT_* of a stop status, or 0.
func stopEvent(ws unix.WaitStatus) int { return int(ws>>16) & 0xff }

// isGone says whether err means the thread no longer exists.
func isGone(err error) bool { return errors.Is(err, errThreadGone) }

// siginfo field offsets (x86-64 siginfo_t).
const (
	siSignoOff = 0
	siCodeOff  = 8
	siPidOff   = 16
	siAddrOff  = 16
)

func siCode(b []byte) int32 { return int32(le32(b[siCodeOff:])) }
func siPid(b []byte) int32  { return int32(le32(b[siPidOff:])) }
func siSigno(b []byte) int  { return int(int32(le32(b[siSignoOff:]))) }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func ptrTo(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
