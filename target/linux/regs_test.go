package linux

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/sys/cpu"

	"gdbserverx/target"
)

func TestDescriptionLayout(t *testing.T) {
	d := describe(true)
	if d.Size() != sizeAVX {
		t.Errorf("size %d, want %d", d.Size(), sizeAVX)
	}
	// Numbers and offsets as gdb 13 with GNU gdbserver shows them here
	// (`maint print remote-registers`).
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
	if n := describe(false).Size(); n != sizeNoAVX {
		t.Errorf("size without AVX %d, want %d", n, sizeNoAVX)
	}
	if got := description().Size(); (got == sizeAVX) != cpu.X86.HasAVX {
		t.Errorf("description of this machine: size %d, AVX %v", got, cpu.X86.HasAVX)
	}
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
	avx := d.Size() == sizeAVX
	if avx {
		set("ymm3h", bytes.Repeat([]byte{0xcd}, 16))
	}
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
	for _, name := range []string{"rbx", "r12", "xmm3", "st0", "fstat", "ftag", "ymm3h"} {
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
	p.onTracer(func(tr *tracer) {
		if th := tr.threads[int(st.Tid)]; th.regs.gpDirty || th.regs.fxDirty {
			t.Errorf("unchanged write marked registers dirty")
		}
	})
}

func TestReadRegistersOfStopsCostsNothing(t *testing.T) {
	p, bin := launch(t, "loop")
	p.InsertBreakpoint(symbol(t, bin, "tick"))
	cont(t, p)
	st := onlyStop(t, next(t, p))
	before := p.Counts().PtraceCalls
	regs(t, p, st.Tid)
	if n := p.Counts().PtraceCalls - before; n != 0 {
		t.Errorf("ReadRegisters of a reporting thread took %d ptrace calls", n)
	}
}

func TestRFKept(t *testing.T) {
	p, bin := launch(t, "loop")
	tick := symbol(t, bin, "tick")
	// An execute breakpoint on tick (RW=00, LEN=00, L0): a fault, RF set.
	p.SetDebugRegisters(target.DebugRegisters{Addr: [4]uint64{tick}, Control: 1})
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopDebug || st.DR6&1 == 0 || st.PC != tick {
		t.Fatalf("%+v, want an execute hit at tick", st)
	}
	r := regs(t, p, st.Tid)
	ef, _ := p.Description().Lookup("eflags")
	flags := le.Uint32(r[ef.Offset:])
	if flags&rfFlag == 0 {
		t.Fatalf("eflags %#x without RF at an execute breakpoint", flags)
	}
	// A client writes the flags back without RF: it stays.
	le.PutUint32(r[ef.Offset:], flags&^rfFlag)
	p.WriteRegisters(st.Tid, r)
	if got := le.Uint32(regs(t, p, st.Tid)[ef.Offset:]); got&rfFlag == 0 {
		t.Errorf("RF cleared by a write that keeps the PC")
	}
	// Resuming goes past the breakpoint once and hits it at the next call.
	p.SetDebugRegisters(target.DebugRegisters{Addr: [4]uint64{tick}, Control: 1})
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
// gdbserver on this machine (maint print raw-registers; numbers there are
// big-endian).
func TestRegistersAsGDBServer(t *testing.T) {
	p, _ := launch(t, "x87")
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Signal != target.SIGTRAP {
		t.Fatalf("%+v", st)
	}
	r := regs(t, p, st.Tid)
	want := map[string]string{
		"st0":   "4000e000000000000000", // 3.5
		"st1":   "00000000000000000000", // 0
		"st2":   "4000c90fdaa22168c235", // pi
		"st3":   "3fff8000000000000000", // 1
		"st4":   "00000000000000000000",
		"fctrl": "0000037f",
		"fstat": "00002000", // TOP = 4
		"ftag":  "000004ff", // physical 4: valid, 5: zero, 6: valid, 7: valid; 0-3 empty
		"fiseg": "00000000",
		"foseg": "00000000",
		"fooff": "00000000",
		"mxcsr": "00001f80",
	}
	if p.Description().Size() == sizeAVX {
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
	if fioff := le.Uint32(r[offFctrl+16:]); fioff == 0 {
		t.Errorf("fioff = 0, want the address of the last x87 instruction")
	}
}
