package linux

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/target"
)

func setReg64(t testing.TB, p *Process, buf []byte, name string, v uint64) {
	t.Helper()
	r, ok := p.Description().Lookup(name)
	if !ok {
		t.Fatalf("no register %s", name)
	}
	le.PutUint64(buf[r.Offset:], v)
}

// mapsLine returns the /proc/PID/maps line of the mapping holding addr.
func mapsLine(t testing.TB, pid int, addr uint64) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		var lo, hi uint64
		if _, err := fmt.Sscanf(l, "%x-%x", &lo, &hi); err == nil && addr >= lo && addr < hi {
			return l
		}
	}
	return ""
}

// TestInjectSyscall runs system calls in the stopped program: at its
// exec stop (inside execve), at a breakpoint, and in a thread interrupted
// in a blocking read, which must still complete after it.
func TestInjectSyscall(t *testing.T) {
	p, bin := launch(t, "inject", "pipe")
	tid := target.Tid(p.Pid())
	before := regs(t, p, tid)
	v, err := p.InjectSyscall(tid, unix.SYS_GETPID)
	if err != nil || int(v) != p.Pid() {
		t.Fatalf("getpid at the exec stop = %d, %v; want %d", int64(v), err, p.Pid())
	}
	// At the exec stop the kernel is yet to store execve's result (0) in
	// rax; the injection took the thread to execve's exit first.
	after := regs(t, p, tid)
	if reg64(t, p, after, "rax") != 0 {
		t.Errorf("rax %#x after leaving execve, want 0", reg64(t, p, after, "rax"))
	}
	if !bytes.Equal(before[8:offST], after[8:offST]) {
		t.Errorf("registers changed by the injection:\n% x\n% x", before[:offST], after[:offST])
	}
	before = after
	if v, err := p.InjectSyscall(tid, unix.SYS_GETPID); err != nil || int(v) != p.Pid() {
		t.Fatalf("getpid = %d, %v", int64(v), err)
	}
	if after := regs(t, p, tid); !bytes.Equal(before, after) {
		t.Errorf("registers changed by the injection:\n% x\n% x", before[:offST], after[:offST])
	}

	// An anonymous page, made read-only, in a thread picked by the target.
	const prot = unix.PROT_READ | unix.PROT_WRITE
	addr, err := p.InjectSyscall(0, unix.SYS_MMAP, 0, 4096, prot, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0)
	if err != nil || int64(addr) < 0 {
		t.Fatalf("mmap: %#x, %v", addr, err)
	}
	if l := mapsLine(t, p.Pid(), addr); !strings.Contains(l, " rw-p ") {
		t.Fatalf("mapping after mmap: %q", l)
	}
	if v, err := p.InjectSyscall(tid, unix.SYS_MPROTECT, addr, 4096, unix.PROT_READ); err != nil || v != 0 {
		t.Fatalf("mprotect: %d, %v", int64(v), err)
	}
	if l := mapsLine(t, p.Pid(), addr); !strings.Contains(l, " r--p ") {
		t.Fatalf("mapping after mprotect: %q", l)
	}
	if v, _ := p.InjectSyscall(tid, unix.SYS_MPROTECT, 1, 4096, 0); int64(v) != -int64(unix.EINVAL) {
		t.Errorf("mprotect of a misaligned address = %d, want -EINVAL", int64(v))
	}

	// Interrupt the program in its read, inject there, and see the read
	// complete with the byte written afterwards.
	got := symbol(t, bin, "got")
	p.InsertBreakpoint(got)
	for i := 0; ; i++ {
		cont(t, p)
		p.Interrupt()
		ev := next(t, p)
		r := regs(t, p, tid)
		if reg64(t, p, r, "orig_rax") == unix.SYS_READ && int64(reg64(t, p, r, "rax")) == -512 { // -ERESTARTSYS
			if len(ev.Stops) != 0 {
				t.Fatalf("interrupt in read: %+v", ev)
			}
			break
		}
		if i > 1000 {
			t.Fatal("the program never blocked in read")
		}
	}
	if v, err := p.InjectSyscall(tid, unix.SYS_GETPID); err != nil || int(v) != p.Pid() {
		t.Fatalf("getpid in a thread in read = %d, %v", int64(v), err)
	}
	w, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/4", p.Pid()), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("z"))
	w.Close()
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopBreakpoint || st.PC != got {
		t.Fatalf("%+v, want the breakpoint at got", st)
	}
	if a := reg64(t, p, regs(t, p, tid), "rdi"); a != 1000+'z' {
		t.Errorf("got(%d), want %d: the read was not restarted right", a, 1000+'z')
	}
}

// TestStepThread steps one thread in place: no event, the instruction
// done, and the other threads still stopped.
func TestStepThread(t *testing.T) {
	p, bin := launch(t, "loop")
	tick, counter := symbol(t, bin, "tick"), symbol(t, bin, "counter")
	p.InsertBreakpoint(tick)
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.PC != tick {
		t.Fatalf("%+v", st)
	}
	p.RemoveBreakpoint(tick)
	var c0 [8]byte
	p.ReadMemory(counter, c0[:])
	pc := st.PC
	for i := 0; i < 40; i++ {
		s, err := p.StepThread(st.Tid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Reason != target.StopDebug || s.DR6&hwbp.DR6SingleStep == 0 || s.PC == pc {
			t.Fatalf("step %d: %+v", i, s)
		}
		if r := reg64(t, p, regs(t, p, st.Tid), "rip"); r != s.PC {
			t.Fatalf("rip %#x, stop PC %#x", r, s.PC)
		}
		pc = s.PC
	}
	noEvent(t, p)
	var c1 [8]byte
	p.ReadMemory(counter, c1[:])
	if le.Uint64(c1[:]) == le.Uint64(c0[:]) {
		t.Errorf("40 steps through the loop did not count")
	}
	// The process is still stopped and resumes as usual.
	p.InsertBreakpoint(tick)
	cont(t, p)
	if s := onlyStop(t, next(t, p)); s.Reason != target.StopBreakpoint {
		t.Fatalf("%+v", s)
	}
}

// TestSyscallEntries stops at system call entries, replaces one call by
// another there, and runs a replaced call in place with StepThread, then
// rewinds the thread to run the original call.
func TestSyscallEntries(t *testing.T) {
	p, bin := launch(t, "inject")
	tid := target.Tid(p.Pid())
	got := symbol(t, bin, "got")
	if err := p.TraceSyscallEntries(true); err != nil {
		t.Fatal(err)
	}
	entry := func() target.ThreadStop {
		t.Helper()
		for {
			cont(t, p)
			st := onlyStop(t, next(t, p))
			if st.Reason != target.StopSyscallEntry {
				t.Fatalf("%+v, want a syscall entry", st)
			}
			if st.Syscall == unix.SYS_GETPPID {
				return st
			}
		}
	}
	// 1. getppid becomes getpid.
	entry()
	r := regs(t, p, tid)
	setReg64(t, p, r, "orig_rax", unix.SYS_GETPID)
	if err := p.WriteRegisters(tid, r); err != nil {
		t.Fatal(err)
	}
	p.TraceSyscallEntries(false)
	p.InsertBreakpoint(got)
	cont(t, p)
	if st := onlyStop(t, next(t, p)); st.Reason != target.StopBreakpoint {
		t.Fatalf("%+v", st)
	}
	if v := reg64(t, p, regs(t, p, tid), "rdi"); int(v) != p.Pid() {
		t.Fatalf("got(%d), want the pid %d", v, p.Pid())
	}
	p.RemoveBreakpoint(got)

	// 2. At the entry, run getpid in place of getppid with StepThread,
	// then rewind to the syscall instruction: getppid runs after all.
	p.TraceSyscallEntries(true)
	st := entry()
	orig := regs(t, p, tid)
	r = append([]byte(nil), orig...)
	setReg64(t, p, r, "orig_rax", unix.SYS_GETPID)
	p.WriteRegisters(tid, r)
	s, err := p.StepThread(tid, 0)
	if err != nil || s.Reason != target.StopDebug || s.PC != st.PC {
		t.Fatalf("StepThread at an entry: %+v, %v; want a step stop at %#x", s, err, st.PC)
	}
	if v := reg64(t, p, regs(t, p, tid), "rax"); int(v) != p.Pid() {
		t.Fatalf("the replaced call returned %d, want %d", v, p.Pid())
	}
	setReg64(t, p, orig, "rip", st.PC-2)
	setReg64(t, p, orig, "rax", unix.SYS_GETPPID)
	p.WriteRegisters(tid, orig)
	again := entry()
	if again.PC != st.PC {
		t.Fatalf("rewound call entered at %#x, want %#x", again.PC, st.PC)
	}
	p.TraceSyscallEntries(false)
	p.InsertBreakpoint(got)
	cont(t, p)
	onlyStop(t, next(t, p))
	if v := reg64(t, p, regs(t, p, tid), "rdi"); int(v) != os.Getpid() {
		t.Fatalf("got(%d), want the parent %d", v, os.Getpid())
	}
}

// BenchmarkInjectSyscall is one injected mprotect, as the
// software-watchpoint engine runs twice per page fault it serves.
func BenchmarkInjectSyscall(b *testing.B) {
	p, bin := launch(b, "loop")
	tick := symbol(b, bin, "tick")
	p.InsertBreakpoint(tick)
	cont(b, p)
	st := onlyStop(b, next(b, p))
	page := symbol(b, bin, "counter") &^ 4095
	cpu0, c0 := tracerCPU(b, p), p.Counts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		prot := uint64(unix.PROT_READ)
		if i&1 != 0 {
			prot |= unix.PROT_WRITE
		}
		if v, err := p.InjectSyscall(st.Tid, unix.SYS_MPROTECT, page, 4096, prot); err != nil || v != 0 {
			b.Fatal(int64(v), err)
		}
	}
	report(b, p, cpu0, c0)
}

// BenchmarkStepThread is one in-place single step.
func BenchmarkStepThread(b *testing.B) {
	p, bin := launch(b, "loop")
	tick := symbol(b, bin, "tick")
	p.InsertBreakpoint(tick)
	cont(b, p)
	st := onlyStop(b, next(b, p))
	p.RemoveBreakpoint(tick)
	cpu0, c0 := tracerCPU(b, p), p.Counts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.StepThread(st.Tid, 0); err != nil {
			b.Fatal(err)
		}
	}
	report(b, p, cpu0, c0)
}
