package linux

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

var _ target.SigInfoWriter = (*Process)(nil)

// SetSigInfo replaces the siginfo of a stopped thread's stop with
// PTRACE_SETSIGINFO (see target.SigInfoWriter): the kernel delivers
// the signal the thread is resumed with from its signal-delivery-stop
// with the siginfo it holds.
func (p *Process) SetSigInfo(tid target.Tid, info []byte) error {
	if err := p.usable(); err != nil {
		return err
	}
	if len(info) != siginfoSize {
		return fmt.Errorf("siginfo of thread %d: %d bytes, want %d", tid, len(info), siginfoSize)
	}
	th, err := p.stoppedThread(tid)
	if err != nil {
		return err
	}
	var buf [siginfoSize]byte
	copy(buf[:], info)
	if err := p.c.ptracePtr(unix.PTRACE_SETSIGINFO, th.tid, 0, unsafe.Pointer(&buf)); err != nil {
		return fmt.Errorf("set siginfo of thread %d: %w", tid, err)
	}
	return nil
}
