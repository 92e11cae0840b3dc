package insn

import (
	"runtime"
	"testing"

	"gdbserverx/hwbp"
)

// TestHardwareRepStep measures what StepAccesses relies on: a
// PTRACE_SINGLESTEP of a REP string instruction executes exactly one
// iteration (RCX drops by one, RIP stays on the instruction until RCX is
// 0), for short and long counts (fast-string microcode included). It also
// measures where a data breakpoint stops a long REP MOVSB/STOSB run with
// PTRACE_CONT, which the SDM allows to be late for fast-string operation
// (vol. 3 "Debug Exception Conditions", fast-string note): the test logs
// how many iterations had completed.
func TestHardwareRepStep(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86-64 only")
	}
	harness := buildC(t, "harness.c", "-O1")
	code := assemble(t, []string{"rep movsb", "rep stosb", "rep movsq"})

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tr := startTracee(t, harness)
	defer tr.kill()
	if err := tr.cont(); err != nil {
		t.Fatal(err)
	}
	start, err := tr.regs()
	if err != nil {
		t.Fatal(err)
	}
	a := start.Rax
	inst := a + hwCodeOff
	setup := func(c []byte, count uint64) {
		t.Helper()
		if err := tr.write(inst, append(append([]byte(nil), c...), 0xcc)); err != nil {
			t.Fatal(err)
		}
		g := start
		g.Rip, g.Rcx, g.Rsi, g.Rdi, g.Eflags = inst, count, a, a+0x8000, 0x202
		if err := tr.setRegs(&g); err != nil {
			t.Fatal(err)
		}
	}
	for ci, name := range []string{"rep movsb", "rep stosb", "rep movsq"} {
		for _, count := range []uint64{3, 4096} {
			setup(code[ci], count)
			for i := uint64(1); i <= 3; i++ {
				if err := tr.step(); err != nil {
					t.Fatal(err)
				}
				r, err := tr.regs()
				if err != nil {
					t.Fatal(err)
				}
				wantRIP := inst
				if i == count {
					wantRIP = inst + uint64(len(code[ci]))
				}
				if r.Rcx != count-i || r.Rip != wantRIP {
					t.Errorf("%s, rcx %d, step %d: rcx %d rip %+#x; want rcx %d rip %+#x (one iteration per step)",
						name, count, i, r.Rcx, r.Rip-inst, count-i, wantRIP-inst)
				}
			}
		}
	}

	// A write watchpoint inside a long fast-string run, with PTRACE_CONT.
	for ci, name := range []string{"rep movsb", "rep stosb"} {
		const count, target = 8192, 3000
		setup(code[ci], count)
		if err := tr.watch([]uint64{a + 0x8000 + target}, hwbp.CondWrite); err != nil {
			t.Fatal(err)
		}
		if err := tr.cont(); err != nil {
			t.Fatal(err)
		}
		r, err := tr.regs()
		if err != nil {
			t.Fatal(err)
		}
		dr6, _ := tr.peekDebug(dr6Index)
		tr.unwatch()
		done := count - r.Rcx
		if !fired(dr6, 0) || done < target+1 {
			t.Errorf("%s: stopped after %d iterations with dr6 %#x; the watched byte is written by iteration %d", name, done, dr6, target+1)
		}
		t.Logf("%s over %d bytes, write watch on byte %d: stopped after %d iterations (%d late), rip at %s",
			name, count, target, done, done-(target+1), map[bool]string{true: "the instruction", false: "the next"}[r.Rip == inst])
	}
}
