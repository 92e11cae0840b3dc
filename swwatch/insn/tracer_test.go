package insn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/internal/x86cpu"
)

// A minimal ptrace tracer for the hardware checks. Every method must be
// called from the goroutine that started the tracee, locked to its OS
// thread (runtime.LockOSThread): Linux accepts ptrace requests only from
// the tracing thread.

// Debug registers through PTRACE_POKEUSER/PEEKUSER; their bits are
// hwbp's (its encoder makes DR7, its words read DR6).
const (
	offsetDebugReg = 848 // offsetof(struct user, u_debugreg)
	dr6Index       = 6
	dr7Index       = 7

	ntX86XState = 0x202 // NT_X86_XSTATE
	// xfeaturesOffset: NT_X86_XSTATE puts XCR0 in the first word of the
	// software-reserved bytes of the FXSAVE area (struct user_xstateregs,
	// i387.xstate_fx_sw[0], arch/x86/include/asm/user.h).
	xfeaturesOffset = x86cpu.XFeaturesOffset
)

type tracee struct {
	t   testing.TB
	pid int
	mem *os.File
}

// startTracee runs path stopped at exec. It skips the test if ptrace is
// not permitted here.
func startTracee(t testing.TB, path string, args ...string) *tracee {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skipf("ptrace not permitted: %v", err)
		}
		t.Fatalf("start %s: %v", path, err)
	}
	tr := &tracee{t: t, pid: cmd.Process.Pid}
	if _, err := tr.waitSignal(unix.SIGTRAP); err != nil {
		t.Fatalf("exec stop: %v", err)
	}
	if err := unix.PtraceSetOptions(tr.pid, unix.PTRACE_O_EXITKILL); err != nil {
		tr.kill()
		t.Fatalf("PTRACE_SETOPTIONS: %v", err)
	}
	mem, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", tr.pid), os.O_RDWR, 0)
	if err != nil {
		tr.kill()
		t.Fatal(err)
	}
	tr.mem = mem
	return tr
}

func (tr *tracee) kill() {
	if tr.mem != nil {
		tr.mem.Close()
	}
	unix.Kill(tr.pid, unix.SIGKILL)
	var ws unix.WaitStatus
	unix.Wait4(tr.pid, &ws, 0, nil)
}

// waitSignal waits for the next stop and checks its signal.
func (tr *tracee) waitSignal(want unix.Signal) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tr.pid, &ws, 0, nil); err != nil {
		return ws, fmt.Errorf("wait4 %d: %w", tr.pid, err)
	}
	if !ws.Stopped() {
		return ws, fmt.Errorf("tracee %d: not stopped: status %#x", tr.pid, uint32(ws))
	}
	if ws.StopSignal() != want {
		return ws, fmt.Errorf("tracee %d: stopped by %v, want %v", tr.pid, ws.StopSignal(), want)
	}
	return ws, nil
}

func (tr *tracee) cont() error {
	if err := unix.PtraceCont(tr.pid, 0); err != nil {
		return fmt.Errorf("PTRACE_CONT: %w", err)
	}
	_, err := tr.waitSignal(unix.SIGTRAP)
	return err
}

func (tr *tracee) step() error {
	if err := unix.PtraceSingleStep(tr.pid); err != nil {
		return fmt.Errorf("PTRACE_SINGLESTEP: %w", err)
	}
	_, err := tr.waitSignal(unix.SIGTRAP)
	return err
}

func (tr *tracee) regs() (unix.PtraceRegs, error) {
	var r unix.PtraceRegs
	err := unix.PtraceGetRegs(tr.pid, &r)
	return r, err
}

func (tr *tracee) setRegs(r *unix.PtraceRegs) error { return unix.PtraceSetRegs(tr.pid, r) }

// xstate reads the XSAVE image (standard format) of the tracee.
func (tr *tracee) xstate() ([]byte, error) {
	buf := make([]byte, 1<<14)
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(tr.pid), ntX86XState, uintptr(unsafe.Pointer(&iov)), 0, 0)
	if e != 0 {
		return nil, fmt.Errorf("PTRACE_GETREGSET NT_X86_XSTATE: %w", e)
	}
	return buf[:iov.Len], nil
}

func (tr *tracee) write(addr uint64, b []byte) error {
	_, err := tr.mem.WriteAt(b, int64(addr))
	return err
}

func (tr *tracee) read(addr uint64, b []byte) error {
	_, err := tr.mem.ReadAt(b, int64(addr))
	return err
}

func (tr *tracee) pokeDebug(i int, v uint64) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_POKEUSR, uintptr(tr.pid), uintptr(offsetDebugReg+8*i), uintptr(v), 0, 0)
	if e != 0 {
		return fmt.Errorf("POKEUSER dr%d=%#x: %w", i, v, e)
	}
	return nil
}

func (tr *tracee) peekDebug(i int) (uint64, error) {
	var b [8]byte
	if _, err := unix.PtracePeekUser(tr.pid, uintptr(offsetDebugReg+8*i), b[:]); err != nil {
		return 0, fmt.Errorf("PEEKUSER dr%d: %w", i, err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// watch arms up to four one-byte watchpoints with condition cond
// (hwbp.CondWrite or hwbp.CondAccess), slot i on addrs[i], in gdb's
// order: DR7 off, addresses, DR7.
func (tr *tracee) watch(addrs []uint64, cond hwbp.Cond) error {
	var sl hwbp.Slots
	for i, a := range addrs {
		sl[i] = hwbp.Piece{Addr: a, Len: 1, Cond: cond}
	}
	img, err := sl.Encode()
	if err != nil {
		return err
	}
	if err := tr.pokeDebug(dr7Index, 0); err != nil {
		return err
	}
	for i := range addrs {
		if err := tr.pokeDebug(i, img.Addr[i]); err != nil {
			return err
		}
	}
	return tr.pokeDebug(dr7Index, img.Control)
}

// fired says whether DR6 shows a hit in slot i.
func fired(dr6 uint64, i int) bool { return dr6&hwbp.DR6Hit(hwbp.Slot(i)) != 0 }

func (tr *tracee) unwatch() error { return tr.pokeDebug(dr7Index, 0) }

// ptraceRegs is the Registers (and VectorRegisters) of a stopped tracee.
type ptraceRegs struct {
	r      unix.PtraceRegs
	xstate []byte
}

func (p *ptraceRegs) Reg(r Reg) uint64 {
	g := &p.r
	switch r {
	case RAX:
		return g.Rax
	case RCX:
		return g.Rcx
	case RDX:
		return g.Rdx
	case RBX:
		return g.Rbx
	case RSP:
		return g.Rsp
	case RBP:
		return g.Rbp
	case RSI:
		return g.Rsi
	case RDI:
		return g.Rdi
	case R8:
		return g.R8
	case R9:
		return g.R9
	case R10:
		return g.R10
	case R11:
		return g.R11
	case R12:
		return g.R12
	case R13:
		return g.R13
	case R14:
		return g.R14
	case R15:
		return g.R15
	case RIP:
		return g.Rip
	case RFLAGS:
		return g.Eflags
	case FSBase:
		return g.Fs_base
	case GSBase:
		return g.Gs_base
	case XCR0:
		if len(p.xstate) >= xfeaturesOffset+8 {
			return binary.LittleEndian.Uint64(p.xstate[xfeaturesOffset:])
		}
	}
	return 0
}

// VectorElement reads ZMMn from the standard-format XSAVE image, at this
// CPU's offsets (CPUID leaf 0xD, x86cpu): bytes 0-15 in the legacy XMM
// area (x86cpu.FxXMM) or Hi16_ZMM for n >= 16, bytes 16-31 in YMM_Hi128, 32-63 in
// ZMM_Hi256.
func (p *ptraceRegs) VectorElement(n, i, size int) (uint64, bool) {
	comp := &x86cpu.Host().Components
	var v uint64
	for b := size - 1; b >= 0; b-- {
		off := i*size + b
		var pos int
		switch {
		case n >= 16:
			pos = int(comp[x86cpu.CompHi16ZMM].Offset) + 64*(n-16) + off
		case off < 16:
			pos = x86cpu.FxXMM + 16*n + off
		case off < 32:
			pos = int(comp[x86cpu.CompAVX].Offset) + 16*n + off - 16
		default:
			pos = int(comp[x86cpu.CompZMMHi256].Offset) + 32*n + off - 32
		}
		if pos >= len(p.xstate) {
			return 0, false
		}
		v = v<<8 | uint64(p.xstate[pos])
	}
	return v, true
}

func (p *ptraceRegs) Opmask(k int) (uint64, bool) {
	c := x86cpu.Host().Components[x86cpu.CompOpmask]
	pos := int(c.Offset) + 8*k
	if c.Size == 0 || pos+8 > len(p.xstate) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(p.xstate[pos:]), true
}

// MMX reads mmN: physical x87 register n, which the FXSAVE region holds
// in stack order (ST(i) = physical (TOP+i) mod 8).
func (p *ptraceRegs) MMX(n int) (uint64, bool) {
	if len(p.xstate) < x86cpu.FxXMM {
		return 0, false
	}
	top := int(binary.LittleEndian.Uint16(p.xstate[x86cpu.FxFSW:])>>11) & 7
	return binary.LittleEndian.Uint64(p.xstate[x86cpu.FxST+16*((n-top+8)%8):]), true
}

// setReg sets a general register in a PtraceRegs.
func setReg(g *unix.PtraceRegs, r Reg, v uint64) {
	switch r {
	case RAX:
		g.Rax = v
	case RCX:
		g.Rcx = v
	case RDX:
		g.Rdx = v
	case RBX:
		g.Rbx = v
	case RSP:
		g.Rsp = v
	case RBP:
		g.Rbp = v
	case RSI:
		g.Rsi = v
	case RDI:
		g.Rdi = v
	case R8:
		g.R8 = v
	case R9:
		g.R9 = v
	case R10:
		g.R10 = v
	case R11:
		g.R11 = v
	case R12:
		g.R12 = v
	case R13:
		g.R13 = v
	case R14:
		g.R14 = v
	case R15:
		g.R15 = v
	case RIP:
		g.Rip = v
	case RFLAGS:
		g.Eflags = v
	case FSBase:
		g.Fs_base = v
	case GSBase:
		g.Gs_base = v
	}
}
