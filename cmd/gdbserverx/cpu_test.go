package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/internal/x86cpu"
)

// These tests adapt to the CPU they run on: they ask CPUID (x86cpu) what
// it has, exercise each feature where it exists and say which they
// skipped. No expected value comes from one CPU model: where what the
// hardware does differs between vendors, the hardware itself is the
// reference (a hardware watchpoint), or CPUID says which answer is right.

// vecKind is one way testdata/vecwatch.c writes its buffers, with the
// four offsets watched and what a hardware watchpoint must report there
// (-1: whatever the hardware says, it is the reference).
type vecKind struct {
	kind  string
	needs []x86cpu.Feature // usable here (x86cpu.CPU.Usable)
	offs  [4]int
	want  [4]int
	// partial: the engine can only bound what the instruction writes
	// (XSAVEOPT skips state that did not change) and must say so in
	// the event log; every other kind it knows exactly and logs nothing.
	partial bool
}

// vecKinds lists the kinds. Each writes three times, the memcpy and
// memset kinds once per size (82 sizes from 1 to 4096).
func vecKinds(cpu *x86cpu.CPU) []vecKind {
	avx512 := []x86cpu.Feature{x86cpu.AVX512F, x86cpu.AVX512BW}
	// The XSAVE kinds load ymm0 (AVX) before each save.
	xsave := []x86cpu.Feature{x86cpu.XSAVE, x86cpu.OSXSAVE, x86cpu.AVX}
	// A byte of the first AVX-512 register state the image holds, where
	// the CPU puts it (CPUID leaf 0xD): the hardware says whether XSAVE
	// writes it; the emulation must agree.
	zmmHi := 400 // xmm15's upper bytes when there is no AVX-512
	if cpu.XCR0&x86cpu.MaskAVX512 == x86cpu.MaskAVX512 {
		zmmHi = int(cpu.Components[x86cpu.CompZMMHi256].Offset)
	}
	return []vecKind{
		{kind: "mask", needs: avx512, offs: [4]int{4, 0, 48, 63}, want: [4]int{3, 0, 3, 0}},
		{kind: "zeromask", needs: avx512, offs: [4]int{0, 4, 48, 63}, want: [4]int{0, 0, 0, 0}},
		{kind: "compress", needs: avx512, offs: [4]int{0, 31, 32, 63}, want: [4]int{3, 3, 0, 0}},
		{kind: "maskmov", offs: [4]int{0, 5, 8, 16}, want: [4]int{3, -1, 3, 0}},
		{kind: "movsb", offs: [4]int{0, 700, 1023, 1024}, want: [4]int{3, 3, 3, 0}},
		{kind: "stosq", offs: [4]int{0, 700, 1023, 1024}, want: [4]int{3, 3, 3, 0}},
		{kind: "xsave", needs: xsave, offs: [4]int{24, 160, 576, zmmHi}, want: [4]int{3, 3, 3, -1}},
		// XSAVEOPT may skip what did not change: only the bytes that
		// change every time (xmm0, ymm0's upper half) are watched.
		{kind: "xsaveopt", needs: append(xsave, x86cpu.XSAVEOPT),
			offs: [4]int{160, 161, 576, 577}, want: [4]int{-1, -1, -1, -1}, partial: true},
		{kind: "memcpy", offs: [4]int{0, 63, 1000, 4095}, want: [4]int{-1, -1, -1, -1}},
		{kind: "memset", offs: [4]int{0, 63, 1000, 4095}, want: [4]int{-1, -1, -1, -1}},
	}
}

// TestVectorWritesWatched: for each way of writing memory that glibc and
// compilers use on this CPU (AVX-512 masked stores with holes and with a
// zero mask, VPCOMPRESSD, MASKMOVDQU, REP MOVSB, REP STOSQ, XSAVE and
// XSAVEOPT into a watched save area, glibc's memcpy and memset of sizes 1
// to 4096), real gdb sets eight access watchpoints through gdbserverx:
// four on bytes of one buffer, in hardware, and four on the same bytes of
// a twin buffer that the program writes the same way, which find no slot
// (from the fifth on) and are emulated in software. Every write the
// hardware reports, the emulation reports, once; a byte the hardware
// sees untouched (a hole of the mask) is never reported. Where the
// program's semantics fix the count (three writes of a selected byte,
// none of a hole), the hardware count is checked too. Where the engine
// can only bound what an instruction writes (XSAVEOPT), the event log
// (--event-log) says so; elsewhere it says nothing.
func TestVectorWritesWatched(t *testing.T) {
	cpu := x86cpu.Host()
	prog := gdbtest.Program(t, "vecwatch")
	var ran, skipped []string
	for _, k := range vecKinds(cpu) {
		if missing := missingFeatures(cpu, k.needs); missing != "" {
			skipped = append(skipped, fmt.Sprintf("%s (the CPU or kernel lacks %s; xcr0 %#x)", k.kind, missing, cpu.XCR0))
			continue
		}
		ran = append(ran, k.kind)
		t.Run(k.kind, func(t *testing.T) {
			events := filepath.Join(t.TempDir(), "events.jsonl")
			srv := gdbtest.StartServer(t, gdbtest.Server(t), "--event-log", events, "127.0.0.1:0", prog, k.kind)
			var points []string
			for _, buf := range []string{"dst1", "dst2"} {
				for _, o := range k.offs {
					points = append(points, fmt.Sprintf("awatch %s[%d]", buf, o))
				}
			}
			out := gdbtest.Script(t, counting(srv.Addr(), "ready", points...))
			if !strings.Contains(out, "exited normally") {
				t.Fatalf("the program did not finish:\n%s", out)
			}
			for _, o := range k.offs {
				sym := "dst2"
				if o > 0 {
					sym += fmt.Sprintf(`\+%d`, o)
				}
				contains(t, out, fmt.Sprintf(`watch 0x[0-9a-f]+ <%s> len 1: no hardware slot free .*; emulated in software`, sym))
			}
			var summary []string
			for i, o := range k.offs {
				hw, sw := hits(out, i+1), hits(out, i+5)
				summary = append(summary, fmt.Sprintf("+%d: %d/%d", o, hw, sw))
				if k.want[i] >= 0 && hw != k.want[i] {
					t.Errorf("byte %d: the hardware watchpoint reported %d accesses, the program made %d", o, hw, k.want[i])
				}
				if sw != hw {
					t.Errorf("byte %d: the emulated watchpoint reported %d accesses, the hardware one %d", o, sw, hw)
				}
			}
			t.Logf("hits, hardware/emulated: %s", strings.Join(summary, ", "))
			notes := partialNotes(t, events)
			switch {
			case k.partial && len(notes) == 0:
				t.Errorf("no partial note in the event log: the emulated watchpoints' bound was not told")
			case !k.partial && len(notes) > 0 && (k.kind != "maskmov" || cpu.Vendor != x86cpu.VendorOther):
				t.Errorf("the event log says the engine could only bound an access it should know exactly: %s", notes)
			case len(notes) > 0:
				t.Logf("event log: %s", notes)
			}
			if t.Failed() {
				t.Logf("gdb:\n%s", out)
			}
		})
	}
	t.Logf("%v", cpu)
	t.Logf("exercised: %s", strings.Join(ran, ", "))
	if len(skipped) > 0 {
		t.Logf("skipped: %s", strings.Join(skipped, "; "))
	}
}

// partialNotes returns the "partial" notes of the engine in an event log.
func partialNotes(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("event log: %v", err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct{ Note, Text string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("event log line %q: %v", line, err)
		}
		if r.Note == "partial" {
			out = append(out, r.Text)
		}
	}
	return out
}

// missingFeatures names the features of needs that cpu lacks (or whose
// state the OS left disabled), or "".
func missingFeatures(cpu *x86cpu.CPU, needs []x86cpu.Feature) string {
	var miss []string
	for _, f := range needs {
		if !cpu.Usable(f) {
			miss = append(miss, f.String())
		}
	}
	return strings.Join(miss, ", ")
}

// vecRegsCase is what TestVectorRegisters does in one mode of
// testdata/vecregs.c: the gdb commands at the first stop (prints, then
// writes), and what the prints must show.
type vecRegsCase struct {
	mode         string
	stop1, stop2 string
	prints       []string          // printed at both stops
	want1        map[string]string // print -> value before the writes
	writes       []string
	want2        map[string]string // print -> value after the writes (and at the second stop)
	allRegs      []string          // lines `info all-registers` must have
}

// dwords is "{r*100, r*100+1, ...}" for n dwords of register r, with
// changes.
func dwords(r, n int, set map[int]int) string {
	var s []string
	for i := 0; i < n; i++ {
		v := r*100 + i
		if x, ok := set[i]; ok {
			v = x
		}
		s = append(s, fmt.Sprint(v))
	}
	return "{" + strings.Join(s, ", ") + "}"
}

// hexDwords is dwords in gdb's `info all-registers` format.
func hexDwords(r, n int) string {
	var s []string
	for i := 0; i < n; i++ {
		s = append(s, fmt.Sprintf("%#x", r*100+i))
	}
	return "{" + strings.Join(s, ", ") + "}"
}

// qwords is register r's dwords as n int64s.
func qwords(r, n int, set map[int]int64) string {
	var s []string
	for i := 0; i < n; i++ {
		v := int64(r*100+2*i+1)<<32 | int64(r*100+2*i)
		if x, ok := set[i]; ok {
			v = x
		}
		s = append(s, fmt.Sprint(v))
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func vecRegsCases() []vecRegsCase {
	z := vecRegsCase{
		mode: "avx512", stop1: "z_stop1", stop2: "z_stop2",
		prints: []string{"p $zmm5.v16_int32", "p/x $k1", "p $xmm20.v4_int32", "p $ymm17.v8_int32",
			"p $zmm31.v8_int64", "p $zmm0.v16_int32", "p $zmm9.v16_int32", "p/x $k7", "p $xmm16.v4_int32"},
		writes: []string{"set var $zmm0.v16_int32[3] = 7", "set var $k1 = 0x5a5a", "set var $xmm20.v4_int32[1] = -20",
			"set var $ymm17.v8_int32[6] = 1717", "set var $zmm31.v8_int64[7] = 0x3131313131313131",
			"set var $zmm9.v16_int32[15] = 99"},
		allRegs: []string{`(?m)^k7\s+0x8000800080008\s`, `(?m)^k0\s+0x1000100010001\s`,
			`(?m)^zmm5\s+\{.*v16_int32 = ` + regexp.QuoteMeta(hexDwords(5, 16)), `(?m)^zmm16\s+\{.*v16_int32 = ` + regexp.QuoteMeta(hexDwords(16, 16)),
			`(?m)^zmm31\s+\{`},
	}
	z.want1 = map[string]string{
		"p $zmm5.v16_int32": dwords(5, 16, nil), "p/x $k1": "0x2000200020002", "p $xmm20.v4_int32": dwords(20, 4, nil),
		"p $ymm17.v8_int32": dwords(17, 8, nil), "p $zmm31.v8_int64": qwords(31, 8, nil), "p $zmm0.v16_int32": dwords(0, 16, nil),
		"p $zmm9.v16_int32": dwords(9, 16, nil), "p/x $k7": "0x8000800080008", "p $xmm16.v4_int32": dwords(16, 4, nil),
	}
	z.want2 = map[string]string{
		"p $zmm5.v16_int32": dwords(5, 16, nil), "p/x $k1": "0x5a5a", "p $xmm20.v4_int32": dwords(20, 4, map[int]int{1: -20}),
		"p $ymm17.v8_int32": dwords(17, 8, map[int]int{6: 1717}), "p $zmm31.v8_int64": qwords(31, 8, map[int]int64{7: 0x3131313131313131}),
		"p $zmm0.v16_int32": dwords(0, 16, map[int]int{3: 7}), "p $zmm9.v16_int32": dwords(9, 16, map[int]int{15: 99}),
		"p/x $k7": "0x8000800080008", "p $xmm16.v4_int32": dwords(16, 4, nil),
	}
	y := vecRegsCase{
		mode: "avx", stop1: "y_stop1", stop2: "y_stop2",
		prints: []string{"p $ymm3.v8_int32", "p $ymm4.v8_int32", "p $ymm15.v8_int32"},
		writes: []string{"set var $ymm3.v8_int32[5] = 35", "set var $xmm4.v4_int32[0] = -4"},
		// gdb shows ymm0-15, or zmm0-15 where the description has
		// AVX-512, in whose low halves the ymm values are.
		allRegs: []string{`(?m)^(ymm15\s+\{.*v8_int32|zmm15\s+\{.*v16_int32) = ` + regexp.QuoteMeta(strings.TrimSuffix(hexDwords(15, 8), "}"))},
	}
	y.want1 = map[string]string{"p $ymm3.v8_int32": dwords(3, 8, nil), "p $ymm4.v8_int32": dwords(4, 8, nil), "p $ymm15.v8_int32": dwords(15, 8, nil)}
	y.want2 = map[string]string{"p $ymm3.v8_int32": dwords(3, 8, map[int]int{5: 35}), "p $ymm4.v8_int32": dwords(4, 8, map[int]int{0: -4}),
		"p $ymm15.v8_int32": dwords(15, 8, nil)}
	return []vecRegsCase{z, y}
}

// script is the gdb session: stop, print, info all-registers, write,
// print, step, stop again, print, run to the end. Each print is preceded
// by an echo naming it, so that its value can be found.
func (c vecRegsCase) script(addr, prog string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "file %s\ntarget remote %s\nbreak %s\nbreak %s\ncontinue\n", prog, addr, c.stop1, c.stop2)
	prints := func(stage string) {
		for _, p := range c.prints {
			fmt.Fprintf(&b, "echo @%s %s\\n\n%s\n", stage, p, p)
		}
	}
	prints("before")
	b.WriteString("echo @all\\n\ninfo all-registers\necho @end\\n\n")
	for _, w := range c.writes {
		b.WriteString(w + "\n")
	}
	prints("written")
	b.WriteString("stepi\ncontinue\n")
	prints("again")
	b.WriteString("continue\n")
	return b.String()
}

var printedRE = regexp.MustCompile(`(?m)^@(\w+) (.*)\n\$\d+ = (.*)$`)

// printed maps "stage print" to the value gdb printed.
func printed(out string) map[string]string {
	m := map[string]string{}
	for _, g := range printedRE.FindAllStringSubmatch(out, -1) {
		m[g[1]+" "+g[2]] = g[3]
	}
	return m
}

// TestVectorRegisters: the program loads known values into zmm0-31 and
// k0-7 (or ymm0-15 on a CPU without AVX-512); gdb shows them through
// gdbserverx (p $zmm5, p $k1, xmm16-31 and ymm16-31, info
// all-registers), writes some (set var $zmm0.v16_int32[3] = 7, $k1,
// xmm20, ymm17's upper half, zmm31's upper half), single-steps and stops
// again: the values hold across the stops, and after it continues the
// program finds in its registers exactly the values it loaded with
// gdb's writes applied (it exits 0 only then). GNU gdbserver 13 reads
// and writes these registers at Intel's fixed XSAVE offsets: where this
// CPU's CPUID gives the same offsets the same session runs under it and
// the outputs must agree; elsewhere (AMD) the test logs what gdbserver
// shows, without depending on it.
func TestVectorRegisters(t *testing.T) {
	cpu := x86cpu.Host()
	prog := gdbtest.Program(t, "vecregs")
	avx512 := cpu.Usable(x86cpu.AVX512F) && cpu.Usable(x86cpu.AVX512BW)
	avx := cpu.Usable(x86cpu.AVX)
	ran := 0
	for _, c := range vecRegsCases() {
		if c.mode == "avx512" && !avx512 || c.mode == "avx" && !avx {
			t.Logf("skipped mode %s: not on this CPU (%v)", c.mode, cpu)
			continue
		}
		ran++
		t.Run(c.mode, func(t *testing.T) {
			srv := serve(t, prog, c.mode)
			out := gdbtest.Script(t, c.script(srv.Addr(), prog))
			got := printed(out)
			for _, p := range c.prints {
				for _, s := range []struct {
					stage string
					want  map[string]string
				}{{"before", c.want1}, {"written", c.want2}, {"again", c.want2}} {
					if g := got[s.stage+" "+p]; g != s.want[p] {
						t.Errorf("%s, %s: %q, want %q", s.stage, p, g, s.want[p])
					}
				}
			}
			all := out[strings.Index(out, "@all"):]
			all = all[:max(strings.Index(all, "@end"), 0)]
			for _, re := range c.allRegs {
				if !regexp.MustCompile(re).MatchString(all) {
					t.Errorf("info all-registers has no line matching %s", re)
				}
			}
			if !strings.Contains(out, "exited normally") {
				t.Errorf("the program did not find gdb's writes in its registers (it names what differs in the server's stderr):\n%s", out)
			}
			if t.Failed() {
				t.Logf("gdb:\n%s", out)
			}
			if c.mode != "avx512" {
				return
			}
			// GNU gdbserver 13: right where CPUID puts the AVX-512
			// components at Intel's offsets.
			gs := gdbtest.GNUServer(t)
			right := cpu.Components[x86cpu.CompOpmask].Offset == 1088 && cpu.Components[x86cpu.CompZMMHi256].Offset == 1152 &&
				cpu.Components[x86cpu.CompHi16ZMM].Offset == 1664
			gsrv := gdbtest.StartServer(t, gs, "127.0.0.1:0", prog, c.mode)
			gout := gdbtest.Script(t, c.script(gsrv.Addr(), prog))
			ggot := printed(gout)
			if right {
				for k, v := range got {
					if ggot[k] != v {
						t.Errorf("%s: gdbserverx %q, GNU gdbserver %q", k, v, ggot[k])
					}
				}
				if !strings.Contains(gout, "exited normally") {
					t.Errorf("under GNU gdbserver the program did not find gdb's writes:\n%s", gout)
				}
				t.Logf("GNU gdbserver agrees (CPUID puts the AVX-512 state at its offsets)")
				return
			}
			var diff []string
			for _, p := range c.prints {
				if k := "before " + p; ggot[k] != got[k] {
					diff = append(diff, fmt.Sprintf("%s: gdbserver %s, the register holds %s", p, ggot[k], got[k]))
				}
			}
			t.Logf("GNU gdbserver 13 uses Intel's XSAVE offsets; CPUID here puts the opmask at %d, ZMM_Hi256 at %d, Hi16_ZMM at %d. It shows:\n  %s",
				cpu.Components[x86cpu.CompOpmask].Offset, cpu.Components[x86cpu.CompZMMHi256].Offset, cpu.Components[x86cpu.CompHi16ZMM].Offset,
				strings.Join(diff, "\n  "))
			if !strings.Contains(gout, "exited normally") {
				t.Logf("and its writes did not reach the registers (the program exited with an error)")
			}
		})
	}
	if ran == 0 {
		t.Skipf("no AVX on this CPU: %v", cpu)
	}
}
