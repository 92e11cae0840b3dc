package linux

import (
	"bytes"
	"fmt"
	"testing"

	"gdbserverx/hwbp"
	"gdbserverx/internal/x86cpu"
	"gdbserverx/target"
)

func TestDescriptionLayout(t *testing.T) {
	d := describe(features{avx: true, avx512: true, pkru: true})
	if d.Size() != sizeAVX512+4 {
		t.Errorf("size %d, want %d", d.Size(), sizeAVX512+4)
	}
	// Numbers and offsets as gdb 13 with GNU gdbserver shows them
	// (`maint print remote-registers`: Rmt Nr and g/G Offset), on an
	// AVX-512 machine; pkru follows the AVX-512 registers.
	for _, c := range []struct {
		name      string
		num, off  int
		bits      int
		typ, grp  string
		inFeature string
	}{
		{"rax", 0, 0, 64, "int64", "", "org.gnu.gdb.i386.core"},
		{"rbp", 6, 48, 64, "data_ptr", "", "org.gnu.gdb.i386.core"},
		{"rsp", 7, 56, 64, "data_ptr", "", "org.gnu.gdb.i386.core"},
		{"rip", 16, offRIP, 64, "code_ptr", "", "org.gnu.gdb.i386.core"},
		{"eflags", 17, offEflags, 32, "i386_eflags", "", "org.gnu.gdb.i386.core"},
		{"gs", 23, offSegs + 20, 32, "int32", "", "org.gnu.gdb.i386.core"},
		{"st0", 24, offST, 80, "i387_ext", "", "org.gnu.gdb.i386.core"},
		{"fctrl", 32, offFctrl, 32, "int", "float", "org.gnu.gdb.i386.core"},
		{"fop", 39, offFctrl + 28, 32, "int", "float", "org.gnu.gdb.i386.core"},
		{"xmm0", 40, offXMM, 128, "vec128", "", "org.gnu.gdb.i386.sse"},
		{"mxcsr", 56, offMXCSR, 32, "i386_mxcsr", "vector", "org.gnu.gdb.i386.sse"},
		{"orig_rax", 57, offOrigRAX, 64, "int", "", "org.gnu.gdb.i386.linux"},
		{"fs_base", 58, offFSBase, 64, "int", "", "org.gnu.gdb.i386.segments"},
		{"gs_base", 59, offGSBase, 64, "int", "", "org.gnu.gdb.i386.segments"},
		{"ymm0h", 60, offYMMH, 128, "uint128", "", "org.gnu.gdb.i386.avx"},
		{"ymm15h", 75, offYMMH + 15*16, 128, "uint128", "", "org.gnu.gdb.i386.avx"},
		{"xmm16", 76, 816, 128, "vec128", "", "org.gnu.gdb.i386.avx512"},
		{"xmm31", 91, 1056, 128, "vec128", "", "org.gnu.gdb.i386.avx512"},
		{"ymm16h", 92, 1072, 128, "uint128", "", "org.gnu.gdb.i386.avx512"},
		{"k0", 108, 1328, 64, "uint64", "", "org.gnu.gdb.i386.avx512"},
		{"k7", 115, 1384, 64, "uint64", "", "org.gnu.gdb.i386.avx512"},
		{"zmm0h", 116, 1392, 256, "v2ui128", "", "org.gnu.gdb.i386.avx512"},
		{"zmm31h", 147, 2384, 256, "v2ui128", "", "org.gnu.gdb.i386.avx512"},
		{"pkru", 148, sizeAVX512, 32, "uint32", "", "org.gnu.gdb.i386.pkeys"},
	} {
		r, ok := d.Lookup(c.name)
		if !ok {
			t.Errorf("no %s", c.name)
			continue
		}
		if r.Number != c.num || r.Offset != c.off || r.Bits != c.bits || r.Type != c.typ || r.Group != c.grp {
			t.Errorf("%s = %+v, want number %d offset %d bits %d type %s group %q", c.name, r, c.num, c.off, c.bits, c.typ, c.grp)
		}
		found := false
		for _, f := range d.Features {
			for _, fr := range f.Registers {
				if fr.Name == c.name && f.Name == c.inFeature {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s not in feature %s", c.name, c.inFeature)
		}
	}
	for _, c := range []struct {
		f    features
		size int
	}{
		{features{}, sizeNoAVX},
		{features{avx: true}, sizeAVX},
		{features{avx: true, avx512: true}, sizeAVX512},
		{features{avx512: true}, sizeNoAVX}, // gdb takes AVX-512 only with AVX
		{features{avx: true, pkru: true}, sizeAVX + 4},
	} {
		if n := describe(c.f).Size(); n != c.size {
			t.Errorf("size with %v: %d, want %d", c.f, n, c.size)
		}
	}
}

// TestRegLayoutFromCPUID builds the layouts of an Intel and an AMD CPU
// with AVX-512 and checks that the AVX-512 registers come from the
// offsets each CPU's CPUID gives, not from one table.
func TestRegLayoutFromCPUID(t *testing.T) {
	for _, c := range []struct {
		name       string
		k, hi, h16 uint32
		pkru       uint32
	}{
		{"intel", 1088, 1152, 1664, 2688},
		{"amd", 832, 896, 1408, 2432},
	} {
		cpu := &x86cpu.CPU{}
		cpu.Components[2] = x86cpu.Component{Size: 256, Offset: 576}
		cpu.Components[5] = x86cpu.Component{Size: 64, Offset: c.k}
		cpu.Components[6] = x86cpu.Component{Size: 512, Offset: c.hi}
		cpu.Components[7] = x86cpu.Component{Size: 1024, Offset: c.h16}
		cpu.Components[9] = x86cpu.Component{Size: 8, Offset: c.pkru}
		size := int(c.pkru + 8)
		l := newRegLayout(true, 0x2e7, size, cpu)
		if l.feat != (features{avx: true, avx512: true, pkru: true}) {
			t.Fatalf("%s: features %v", c.name, l.feat)
		}
		xs := make([]byte, size)
		for i := range xs {
			xs[i] = byte(i * 7)
		}
		le.PutUint64(xs[xsaveHdrBV:], 0x2e7)
		buf := make([]byte, l.desc.Size())
		l.putXState(buf, xs)
		at := func(name string) []byte {
			r, _ := l.desc.Lookup(name)
			return buf[r.Offset : r.Offset+r.Bits/8]
		}
		for _, w := range []struct {
			reg string
			xs  uint32
		}{
			{"k1", c.k + 8}, {"zmm3h", c.hi + 3*32}, {"xmm17", c.h16 + 64}, {"ymm17h", c.h16 + 64 + 16},
			{"zmm17h", c.h16 + 64 + 32}, {"pkru", c.pkru}, {"ymm2h", 576 + 32},
		} {
			got := at(w.reg)
			if !bytes.Equal(got, xs[w.xs:int(w.xs)+len(got)]) {
				t.Errorf("%s: %s = %x, want the image's bytes at %d", c.name, w.reg, got, w.xs)
			}
		}
		// A component in its initial state reads as zeros.
		le.PutUint64(xs[xsaveHdrBV:], 0x2e7&^(1<<5))
		l.putXState(buf, xs)
		if k := at("k1"); !bytes.Equal(k, make([]byte, 8)) {
			t.Errorf("%s: k1 = %x with the opmask component initial, want 0", c.name, k)
		}
		// A write of k1 lands at its offset and marks the component in
		// use; only the changed component is written.
		cur := bytes.Clone(buf)
		copy(at("k1"), []byte{1, 2, 3, 4, 5, 6, 7, 8})
		comps := l.changedXState(cur, buf)
		if comps != 1<<5 {
			t.Errorf("%s: changed components %#x, want %#x", c.name, comps, 1<<5)
		}
		before := bytes.Clone(xs)
		l.getXState(buf, xs, comps)
		if !bytes.Equal(xs[c.k+8:c.k+16], []byte{1, 2, 3, 4, 5, 6, 7, 8}) || le.Uint64(xs[xsaveHdrBV:])&(1<<5) == 0 {
			t.Errorf("%s: k1 not written at %d with XSTATE_BV bit 5", c.name, c.k+8)
		}
		if !bytes.Equal(xs[c.hi:], before[c.hi:]) {
			t.Errorf("%s: writing k1 changed other components", c.name)
		}
	}
	// Without XSAVE (or with an image too short for a component) the
	// component is not shown.
	if l := newRegLayout(true, 0xe7, 1000, x86cpu.Host()); l.feat.avx512 {
		t.Errorf("AVX-512 in a 1000-byte image")
	}
	if l := newRegLayout(false, 0, 0, x86cpu.Host()); l.feat != (features{}) || l.desc.Size() != sizeNoAVX {
		t.Errorf("without XSAVE: %v, %d bytes", l.feat, l.desc.Size())
	}
}

// TestDescriptionFollowsKernel: a launched process's description has
// the register groups this CPU has and the kernel enables (XCR0 from
// XGETBV, which the kernel's NT_X86_XSTATE mask equals for these
// components).
func TestDescriptionFollowsKernel(t *testing.T) {
	p, _ := launch(t, "loop")
	cpu := x86cpu.Host()
	d := p.Description()
	want := map[string]bool{
		"ymm0h":  cpu.Enabled(x86cpu.CompAVX),
		"k0":     cpu.Enabled(x86cpu.CompAVX) && cpu.XCR0&x86cpu.MaskAVX512 == x86cpu.MaskAVX512,
		"zmm31h": cpu.Enabled(x86cpu.CompAVX) && cpu.XCR0&x86cpu.MaskAVX512 == x86cpu.MaskAVX512,
		"pkru":   cpu.Enabled(x86cpu.CompPKRU),
	}
	for name, w := range want {
		if _, ok := d.Lookup(name); ok != w {
			t.Errorf("%s in the description: %v, want %v (xcr0 %#x)", name, ok, w, cpu.XCR0)
		}
	}
	t.Logf("xcr0 %#x: %d registers, %d bytes (%s)", cpu.XCR0, len(d.Registers()), d.Size(), cpu)
}

func TestFullTag(t *testing.T) {
	st := make([]byte, 128)
	put := func(i int, mant uint64, exp uint16) {
		le.PutUint64(st[16*i:], mant)
		le.PutUint16(st[16*i+8:], exp)
	}
	put(0, 1<<63, 0x3fff) // 1.0: valid
	put(1, 0, 0)          // zero
	put(2, 1, 0)          // denormal: special
	put(3, 0, 0x7fff)     // infinity: special
	put(4, 1, 0x3fff)     // unnormal (integer bit clear): special
	// TOP = 6: ST(i) is physical register (6+i) mod 8.
	fsw := uint16(6 << 11)
	// Physical 6,7,0,1,2 hold ST0..ST4 and are marked valid; the rest empty.
	abridged := byte(1<<6 | 1<<7 | 1<<0 | 1<<1 | 1<<2)
	got := fullTag(abridged, fsw, st)
	want := uint16(0)<<12 | uint16(1)<<14 | uint16(2)<<0 | uint16(2)<<2 | uint16(2)<<4 |
		uint16(3)<<6 | uint16(3)<<8 | uint16(3)<<10
	if got != want {
		t.Errorf("fullTag = %#04x, want %#04x", got, want)
	}
}

func TestRegistersRoundTrip(t *testing.T) {
	p, bin := launch(t, "loop")
	tick := symbol(t, bin, "tick")
	p.InsertBreakpoint(tick)
	cont(t, p)
	st := onlyStop(t, next(t, p))
	p.RemoveBreakpoint(tick)
	d := p.Description()
	orig := regs(t, p, st.Tid)
	buf := bytes.Clone(orig)
	set := func(name string, val []byte) {
		r, _ := d.Lookup(name)
		copy(buf[r.Offset:r.Offset+r.Bits/8], val)
	}
	set("rbx", []byte{1, 2, 3, 4, 5, 6, 7, 8})
	set("r12", []byte{9, 9, 9, 9, 9, 9, 9, 9})
	set("xmm3", bytes.Repeat([]byte{0xab}, 16))
	set("st0", []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}) // 1.0
	set("fstat", []byte{0, 0x38, 0, 0})                       // TOP = 7: st0 is physical 7
	set("ftag", []byte{0xff, 0x3f, 0, 0})                     // physical 7 valid
	var extra []string                                        // AVX, AVX-512 and PKU registers this machine has
	for _, x := range []struct {
		name string
		val  []byte
	}{
		{"ymm3h", []byte{0xcd}}, {"k5", []byte{0x5a}}, {"zmm4h", []byte{0x44}}, {"xmm20", []byte{0x20}},
		{"ymm21h", []byte{0x21}}, {"zmm31h", []byte{0x31}},
		// Linux's default PKRU (0x55555554) with key 1 opened: key 0,
		// every page's, must stay open or the program faults.
		{"pkru", []byte{0x50, 0x55, 0x55, 0x55}},
	} {
		if r, ok := d.Lookup(x.name); ok {
			set(x.name, bytes.Repeat(x.val, r.Bits/8/len(x.val)))
			extra = append(extra, x.name)
		}
	}
	t.Logf("registers written beyond SSE: %v", extra)
	if err := p.WriteRegisters(st.Tid, buf); err != nil {
		t.Fatal(err)
	}
	if got := regs(t, p, st.Tid); !bytes.Equal(got, buf) {
		t.Fatalf("read back from the cache differs:\n got %x\nwant %x", got, buf)
	}
	// Step one instruction (endbr64 or push rbp: none of these registers)
	// so that the cache is written, dropped and read again.
	if err := p.Resume([]target.Action{{Tid: st.Tid, Kind: target.Step}}); err != nil {
		t.Fatal(err)
	}
	onlyStop(t, next(t, p))
	got := regs(t, p, st.Tid)
	for _, name := range append([]string{"rbx", "r12", "xmm3", "st0", "fstat", "ftag"}, extra...) {
		r, ok := d.Lookup(name)
		if !ok {
			continue
		}
		a, b := got[r.Offset:r.Offset+r.Bits/8], buf[r.Offset:r.Offset+r.Bits/8]
		if !bytes.Equal(a, b) {
			t.Errorf("%s = %x after the step, want %x", name, a, b)
		}
	}
	// Writing back what was read writes nothing.
	before := p.Counts().PtraceCalls
	if err := p.WriteRegisters(st.Tid, got); err != nil {
		t.Fatal(err)
	}
	calls := p.Counts().PtraceCalls - before
	if calls != 0 {
		t.Errorf("%d ptrace calls to write unchanged registers", calls)
	}
	if th := p.threads[int(st.Tid)]; th.regs.gpDirty || th.regs.fxDirty {
		t.Errorf("unchanged write marked registers dirty")
	}
}

// TestGeneralRegistersOfStopsCostNothing: the general registers of a
// reporting thread are fetched with the stop (the server sends the pc,
// the stack and frame pointers with the stop reply), and nothing more:
// the floating-point and vector state costs its system call only when it
// is read.
func TestGeneralRegistersOfStopsCostNothing(t *testing.T) {
	p, bin := launch(t, "loop")
	p.InsertBreakpoint(symbol(t, bin, "tick"))
	cont(t, p)
	st := onlyStop(t, next(t, p))
	buf := make([]byte, p.Description().Size())
	before := p.Counts().PtraceCalls
	if err := p.ReadGeneralRegisters(st.Tid, buf); err != nil {
		t.Fatal(err)
	}
	if n := p.Counts().PtraceCalls - before; n != 0 {
		t.Errorf("ReadGeneralRegisters of a reporting thread took %d ptrace calls", n)
	}
	if pc := reg64(t, p, buf, "rip"); pc != st.PC {
		t.Errorf("rip %#x, stop PC %#x", pc, st.PC)
	}
	full := regs(t, p, st.Tid)
	if n := p.Counts().PtraceCalls - before; n != 1 {
		t.Errorf("ReadRegisters after it took %d ptrace calls, want 1 (the XSAVE state)", n)
	}
	r, _ := p.Description().Lookup("st0")
	if !bytes.Equal(full[:r.Offset], buf[:r.Offset]) {
		t.Errorf("the general registers differ between the two reads")
	}
}

func TestRFKept(t *testing.T) {
	p, bin := launch(t, "loop")
	tick := symbol(t, bin, "tick")
	// An execute breakpoint on tick: a fault, RF set.
	p.SetDebugRegisters(debugRegs(breakAt(tick)))
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopDebug || st.DR6&hwbp.DR6Hit(0) == 0 || st.PC != tick {
		t.Fatalf("%+v, want an execute hit at tick", st)
	}
	r := regs(t, p, st.Tid)
	ef, _ := p.Description().Lookup("eflags")
	flags := le.Uint32(r[ef.Offset:])
	if flags&uint32(hwbp.FlagRF) == 0 {
		t.Fatalf("eflags %#x without RF at an execute breakpoint", flags)
	}
	// A client writes the flags back without RF: it stays.
	le.PutUint32(r[ef.Offset:], flags&^uint32(hwbp.FlagRF))
	p.WriteRegisters(st.Tid, r)
	if got := le.Uint32(regs(t, p, st.Tid)[ef.Offset:]); got&uint32(hwbp.FlagRF) == 0 {
		t.Errorf("RF cleared by a write that keeps the PC")
	}
	// Resuming goes past the breakpoint once and hits it at the next call.
	p.SetDebugRegisters(debugRegs(breakAt(tick)))
	cont(t, p)
	st2 := onlyStop(t, next(t, p))
	if st2.Reason != target.StopDebug || st2.PC != tick {
		t.Fatalf("%+v", st2)
	}
	var c [8]byte
	p.ReadMemory(symbol(t, bin, "counter"), c[:])
	if le.Uint64(c[:]) == 0 {
		t.Errorf("tick did not run between the two hits")
	}
}

// TestRegistersAsGDBServer compares the x87, SSE and AVX registers of a
// program with what gdb 13 showed for the same program under GNU
// gdbserver (maint print raw-registers; numbers there are big-endian),
// and FIP (fiseg:fioff) with what the CPU itself saved in the program's
// own FXSAVE image: Intel stores it always, AMD only with an x87
// exception pending unless CPUID says otherwise, so no value is assumed.
func TestRegistersAsGDBServer(t *testing.T) {
	for _, mode := range []string{"", "pending"} {
		t.Run("mode="+mode, func(t *testing.T) {
			var args []string
			if mode != "" {
				args = []string{mode}
			}
			p, bin := launch(t, "x87", args...)
			cont(t, p)
			st := onlyStop(t, next(t, p))
			if st.Signal != target.SIGTRAP {
				t.Fatalf("%+v", st)
			}
			r := regs(t, p, st.Tid)
			want := map[string]string{
				"fctrl": "0000037f",
				"foseg": "00000000",
				"mxcsr": "00001f80",
			}
			if mode == "" {
				want["st0"] = "4000e000000000000000" // 3.5
				want["st1"] = "00000000000000000000" // 0
				want["st2"] = "4000c90fdaa22168c235" // pi
				want["st3"] = "3fff8000000000000000" // 1
				want["st4"] = "00000000000000000000"
				want["fstat"] = "00002000" // TOP = 4
				want["ftag"] = "000004ff"  // physical 4: valid, 5: zero, 6: valid, 7: valid; 0-3 empty
				want["fooff"] = "00000000"
			} else {
				want["fctrl"] = "0000037b"           // ZM clear
				want["st0"] = "3fff8000000000000000" // 1: an unmasked exception stores no result
				want["fstat"] = "0000b884"           // busy, TOP = 7, exception summary, zero divide
			}
			if _, ok := p.Description().Lookup("ymm2h"); ok {
				want["xmm2"] = "66656463626139383736353433323130"
				want["ymm2h"] = "767574737271706f6e6d6c6b6a696867"
			}
			for name, w := range want {
				reg, _ := p.Description().Lookup(name)
				b := r[reg.Offset : reg.Offset+reg.Bits/8]
				got := ""
				for i := len(b) - 1; i >= 0; i-- {
					got += fmt.Sprintf("%02x", b[i])
				}
				if got != w {
					t.Errorf("%s = %s, want %s", name, got, w)
				}
			}
			var b [8]byte
			p.ReadMemory(symbol(t, bin, "saved_fip"), b[:])
			saved := le.Uint64(b[:])
			p.ReadMemory(symbol(t, bin, "last_x87"), b[:])
			last := le.Uint64(b[:])
			fip := uint64(le.Uint32(r[offFctrl+12:]))<<32 | uint64(le.Uint32(r[offFctrl+16:]))
			if fip != saved {
				t.Errorf("fiseg:fioff = %#x, the CPU's own FXSAVE saved FIP %#x", fip, saved)
			}
			switch {
			case saved == last:
				t.Logf("FIP %#x: the CPU stores the address of the last x87 instruction", fip)
			case saved == 0 && mode == "" && x86cpu.Host().Vendor != x86cpu.Intel:
				t.Logf("FIP 0: this %v CPU stores FIP only with an x87 exception pending", x86cpu.Host().Vendor)
			default:
				t.Errorf("the program's FXSAVE saved FIP %#x, its last x87 instruction is at %#x", saved, last)
			}
		})
	}
}
