package insn

import (
	"debug/elf"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/internal/x86cpu"
)

// TestHardwareCorpusTrace checks the table against the hardware on the
// corpus as it runs: each testdata program (every gcc flag set of
// corpusFlags) is single-stepped from main, through the C library and the
// dynamic linker it calls, for up to traceSteps instructions. Before each
// step the tracer decodes the instruction at RIP, asks StepAccesses, and
// watches four bytes: the first and last byte of a predicted range or the
// bytes just outside it (rotating, so that a loop covers them all), the
// effective address of an operand predicted untouched, or the stack top
// when nothing is predicted. It alternates access and write watches and
// compares DR6 after the step with the prediction, as TestHardwareAccesses
// does.
func TestHardwareCorpusTrace(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86-64 only")
	}
	if testing.Short() {
		t.Skip("long: single-steps the corpus programs")
	}
	type progBuild struct {
		name string
		path string
	}
	var builds []progBuild
	cpu := x86cpu.Host()
	var skipped []string
	for _, flags := range corpusFlags {
		// A build for instructions this CPU cannot run is not run.
		if missing := missingFeatures(cpu, flagFeatures(flags)); missing != "" {
			skipped = append(skipped, fmt.Sprintf("%s (no %s)", strings.Join(flags, " "), missing))
			continue
		}
		for _, prog := range corpusPrograms {
			builds = append(builds, progBuild{prog + " " + strings.Join(flags, " "), buildC(t, prog, append([]string{"-no-pie"}, flags...)...)})
		}
	}
	if len(skipped) > 0 {
		t.Logf("builds not traced on this CPU: %s", strings.Join(skipped, "; "))
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st := &traceStats{forms: map[string]int{}, bad: map[string][]string{}}
	for _, b := range builds {
		if err := traceProgram(t, b.path, st); err != nil {
			t.Errorf("%s: %v", b.name, err)
		}
	}
	keys := make([]string, 0, len(st.bad))
	for k := range st.bad {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("%s: %d disagreements with the hardware, e.g. %s", k, len(st.bad[k]), st.bad[k][0])
	}
	t.Logf("%d steps, %d watched bytes, %d instruction forms (mnemonic and operand shape), %d with accesses",
		st.steps, st.watched, len(st.forms), st.formsWithAccess)
}

// traceSteps bounds the single-steps per program.
const traceSteps = 25000

type traceStats struct {
	steps, watched  int
	forms           map[string]int
	formsWithAccess int
	bad             map[string][]string
}

func symbolAddr(path, name string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return 0, err
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value, nil
		}
	}
	return 0, fmt.Errorf("%s: no symbol %s", path, name)
}

func traceProgram(t *testing.T, path string, st *traceStats) error {
	mainAddr, err := symbolAddr(path, "main")
	if err != nil {
		return err
	}
	tr := startTracee(t, path)
	defer tr.kill()
	// Run to main: an int3 there, then put the byte back.
	var orig [1]byte
	if err := tr.read(mainAddr, orig[:]); err != nil {
		return err
	}
	if err := tr.write(mainAddr, []byte{0xcc}); err != nil {
		return err
	}
	if err := tr.cont(); err != nil {
		return fmt.Errorf("run to main: %w", err)
	}
	if err := tr.write(mainAddr, orig[:]); err != nil {
		return err
	}
	g, err := tr.regs()
	if err != nil {
		return err
	}
	g.Rip = mainAddr
	if err := tr.setRegs(&g); err != nil {
		return err
	}

	var dec Decoder
	var code [MaxLen]byte
	pred := make([]Access, 0, 32)
	rot := 0
	for step := 0; step < traceSteps; step++ {
		g, err := tr.regs()
		if err != nil {
			return err
		}
		x, err := tr.xstate()
		if err != nil {
			return err
		}
		regs := &ptraceRegs{r: g, xstate: x}
		n, _ := tr.mem.ReadAt(code[:], int64(g.Rip))
		in, err := dec.Decode(code[:n])
		if err != nil {
			return fmt.Errorf("rip %#x: %w", g.Rip, err)
		}
		if pred, err = StepAccesses(in, regs, pred[:0]); err != nil {
			return fmt.Errorf("rip %#x %v: %w", g.Rip, in, err)
		}
		form := traceForm(&in)
		if st.forms[form] == 0 && len(pred) > 0 {
			st.formsWithAccess++
		}
		st.forms[form]++

		// Choose the bytes to watch.
		var cand []uint64
		for _, a := range pred {
			if a.Partial {
				cand = append(cand, a.Addr-1, a.End())
			} else {
				cand = append(cand, a.Addr, a.End()-1, a.Addr-1, a.End())
			}
		}
		for _, ea := range probeAddrs(&in, regs) {
			cand = append(cand, ea)
		}
		if len(cand) == 0 || in.Flow == FlowCall || in.Flow == FlowRet {
			cand = append(cand, g.Rsp, g.Rsp-1, g.Rsp-8, g.Rsp+8)
		}
		var watch []uint64
		seen := map[uint64]bool{}
		for i := 0; i < len(cand) && len(watch) < 4; i++ {
			b := cand[(rot+i)%len(cand)]
			if b == 0 || b >= 1<<47-4096 || seen[b] {
				continue
			}
			seen[b] = true
			watch = append(watch, b)
		}
		rot++
		mode := hwbp.CondAccess
		if step%2 == 1 {
			mode = hwbp.CondWrite
		}
		syscall := in.Effects&EffSyscall != 0
		if syscall {
			watch = nil // the kernel's accesses are not the instruction's
		}
		if len(watch) > 0 {
			if err := tr.watch(watch, mode); err != nil {
				return fmt.Errorf("rip %#x %v: %w", g.Rip, in, err)
			}
		}
		st.steps++
		if err := unix.PtraceSingleStep(tr.pid); err != nil {
			return err
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(tr.pid, &ws, 0, nil); err != nil {
			return err
		}
		if ws.Exited() {
			return nil
		}
		if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
			return fmt.Errorf("rip %#x %v: stopped with status %#x", g.Rip, in, uint32(ws))
		}
		if len(watch) == 0 {
			continue
		}
		dr6, err := tr.peekDebug(dr6Index)
		if err != nil {
			return err
		}
		if err := tr.unwatch(); err != nil {
			return err
		}
		st.watched += len(watch)
		for j, b := range watch {
			hit := fired(dr6, j)
			var r, w, partial bool
			for _, a := range pred {
				if b >= a.Addr && b < a.End() {
					r, w, partial = r || a.Read, w || a.Write, partial || a.Partial
				}
			}
			if partial {
				continue
			}
			want := w || r && mode == hwbp.CondAccess
			if hit != want {
				st.bad[in.Mnemonic()] = append(st.bad[in.Mnemonic()], fmt.Sprintf(
					"%#x: % x %v: %v watch on %#x fired=%v; predicted %v", g.Rip, code[:in.Len], in, mode, b, hit, pred))
			}
		}
	}
	return nil
}

// traceForm names an instruction form: mnemonic, prefixes that change
// its accesses, and operand shape.
func traceForm(in *Inst) string {
	var b strings.Builder
	b.WriteString(in.Mnemonic())
	if in.rep != 0 {
		b.WriteString(" rep")
	}
	if in.kmask != 0 {
		b.WriteString(" {k}")
	}
	for _, m := range in.mem[:in.nmem] {
		fmt.Fprintf(&b, " m%d", m.size)
		if m.seg != regNone {
			b.WriteString(" seg")
		}
		if m.base == RIP {
			b.WriteString(" rip")
		}
	}
	return b.String()
}

// flagFeatures is what a corpus build's gcc flags need of the CPU.
func flagFeatures(flags []string) []x86cpu.Feature {
	var out []x86cpu.Feature
	for _, f := range flags {
		switch f {
		case "-mavx2":
			out = append(out, x86cpu.AVX2)
		case "-mavx512f":
			out = append(out, x86cpu.AVX512F)
		case "-mavx512bw":
			out = append(out, x86cpu.AVX512BW)
		case "-mavx512vl":
			out = append(out, x86cpu.AVX512VL)
		}
	}
	return out
}
