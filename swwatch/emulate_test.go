package swwatch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"gdbserverx/hwbp"
	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// TestALU checks the CPU's ALU (alu_amd64.s) against the architecture
// for additions and subtractions of every pair of bytes, carry in or
// not.
func TestALU(t *testing.T) {
	const cf, zf, sf, of = 1, 1 << 6, 1 << 7, 1 << 11
	for a := uint64(0); a < 256; a++ {
		for b := uint64(0); b < 256; b++ {
			for _, c := range []uint64{0, cf} {
				res, f := alu(aluAdc, 1, a, b, c)
				want := (a + b + c) & 0xff
				if res != want || (f&cf != 0) != (a+b+c > 0xff) || (f&zf != 0) != (want == 0) || (f&sf != 0) != (want&0x80 != 0) ||
					(f&of != 0) != ((a^want)&(b^want)&0x80 != 0) {
					t.Fatalf("adc %#x, %#x, cf %d: %#x flags %#x", a, b, c, res, f)
				}
				res, f = alu(aluSbb, 1, a, b, c)
				want = (a - b - c) & 0xff
				if res != want || (f&cf != 0) != (a < b+c) || (f&of != 0) != ((a^b)&(a^want)&0x80 != 0) {
					t.Fatalf("sbb %#x, %#x, cf %d: %#x flags %#x", a, b, c, res, f)
				}
			}
		}
	}
	if r, f := alu(aluInc, 8, ^uint64(0), 0, cf); r != 0 || f&cf == 0 || f&zf == 0 {
		t.Errorf("inc keeps CF and sets ZF: %#x %#x", r, f)
	}
	if _, f := alu(aluCmp, 4, 1, 2, 0); f&cf == 0 {
		t.Errorf("cmp 1, 2 sets CF: %#x", f)
	}
	if r, f := alu(aluNot, 2, 0x00ff, 0, cf|zf); r != 0xff00 || f&(cf|zf) != cf|zf {
		t.Errorf("not: %#x %#x", r, f)
	}
}

// TestEmulationMatchesCPU runs every instruction form of testdata/emu.c
// from random registers, flags and memory twice: once single-stepped by
// the CPU, once emulated by the engine (an access watch on the cell makes
// it fault), and compares the registers, flags and memory they leave.
func TestEmulationMatchesCPU(t *testing.T) {
	s := start(t, "emu")
	s.resume()
	st := onlyStop(t, s.next())
	if st.Signal != target.SIGTRAP {
		t.Fatalf("%+v", st)
	}
	tid := st.Tid
	d := s.w.Description()
	off := func(name string) int {
		r, ok := d.Lookup(name)
		if !ok {
			t.Fatalf("no register %s", name)
		}
		return r.Offset
	}
	base := make([]byte, d.Size())
	if err := s.w.ReadRegisters(tid, base); err != nil {
		t.Fatal(err)
	}
	pg := s.sym("pg")
	count := int(int32(s.readU64(s.sym("emu_count"))))
	gp := []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}
	all := append(gp, "rsp", "rip")
	rng := rand.New(rand.NewPCG(1, 2))
	put := func(b []byte, name string, v uint64) { binary.LittleEndian.PutUint64(b[off(name):], v) }
	get := func(b []byte, name string) uint64 { return binary.LittleEndian.Uint64(b[off(name):]) }
	snapshot := func() ([]byte, []byte) {
		r := make([]byte, d.Size())
		if err := s.w.ReadRegisters(tid, r); err != nil {
			t.Fatal(err)
		}
		m := make([]byte, 24)
		if _, err := s.w.ReadMemory(pg, m); err != nil {
			t.Fatal(err)
		}
		return r, m
	}
	const trials = 12
	for i := 0; i < count; i++ {
		addr := s.sym(fmt.Sprintf("emu_%d", i))
		for k := 0; k < trials; k++ {
			regs := append([]byte(nil), base...)
			for _, n := range gp {
				v := rng.Uint64()
				switch rng.IntN(4) {
				case 0:
					v &= 0xff
				case 1:
					v = ^v & 0xffffffff
				}
				put(regs, n, v)
			}
			put(regs, "rip", addr)
			put(regs, "r8", pg)
			if i == 63 {
				put(regs, "fs_base", pg+0x2000)
			}
			ef := binary.LittleEndian.Uint32(regs[off("eflags"):])
			binary.LittleEndian.PutUint32(regs[off("eflags"):], ef&^flagsArith|uint32(rng.Uint64()&flagsArith))
			mem := make([]byte, 24)
			for j := range mem {
				mem[j] = byte(rng.Uint32())
			}
			if k%2 == 0 { // make CMPXCHG succeed
				copy(regs[off("rax"):off("rax")+8], mem[:8])
			}
			// The stack forms: RSP (or RBP) on the cell, the targets.
			tgt, ret := s.sym("emu_target"), s.sym("emu_ret")
			switch i {
			case 64, 65, 66, 68, 69, 70, 76:
				put(regs, "rsp", pg+8)
			case 74:
				put(regs, "rsp", pg+2)
			case 67, 71, 72, 75:
				put(regs, "rsp", pg)
			case 73:
				put(regs, "rbp", pg)
				put(regs, "rsp", pg+0x100)
			}
			if i == 69 {
				put(regs, "rax", tgt)
			}
			binary.LittleEndian.PutUint64(mem[16:], tgt)
			if i == 71 || i == 72 {
				binary.LittleEndian.PutUint64(mem[:8], ret)
			}

			// The CPU.
			s.watch()
			s.w.WriteMemory(pg, mem)
			if err := s.w.WriteRegisters(tid, regs); err != nil {
				t.Fatal(err)
			}
			if _, err := s.w.StepThread(tid, 0); err != nil {
				t.Fatal(err)
			}
			cpuRegs, cpuMem := snapshot()

			// The engine.
			s.w.WriteMemory(pg, mem)
			if err := s.w.WriteRegisters(tid, regs); err != nil {
				t.Fatal(err)
			}
			s.watch(Watch{ID: 1, Addr: pg, Len: 8, Kind: Access})
			emu0 := s.w.Stats().Emulated
			s.resume()
			ev := onlyStop(t, s.next())
			s.watch()
			if s.w.Stats().Emulated != emu0+1 {
				t.Fatalf("emu_%d was not emulated: %+v, stats %+v", i, ev, s.w.Stats())
			}
			engRegs, engMem := snapshot()
			switch ev.Reason {
			case target.StopWatch:
			case target.StopSignal: // no hit: it ran on to the int3
				put(engRegs, "rip", get(engRegs, "rip")-1)
			default:
				t.Fatalf("emu_%d: %+v", i, ev)
			}
			for _, n := range all {
				if a, b := get(cpuRegs, n), get(engRegs, n); a != b {
					t.Errorf("emu_%d trial %d: %s = %#x, the CPU left %#x", i, k, n, b, a)
				}
			}
			const keep = flagsArith | uint32(hwbp.FlagTF) | 1<<10 // and DF
			if a, b := binary.LittleEndian.Uint32(cpuRegs[off("eflags"):])&keep, binary.LittleEndian.Uint32(engRegs[off("eflags"):])&keep; a != b {
				t.Errorf("emu_%d trial %d: eflags %#x, the CPU left %#x", i, k, b, a)
			}
			if !bytes.Equal(cpuMem, engMem) {
				t.Errorf("emu_%d trial %d: memory % x, the CPU left % x", i, k, engMem, cpuMem)
			}
		}
	}
}

func onlyStop(t testing.TB, ev target.Event) target.ThreadStop {
	t.Helper()
	if ev.Kind != target.EventStopped || len(ev.Stops) != 1 {
		t.Fatalf("want one stop, got %+v", ev)
	}
	return ev.Stops[0]
}

// memIO is an emuIO over a byte slice at base, for tests of the emulator
// alone.
type memIO struct {
	base uint64
	mem  []byte
	set  int // setRegs calls
}

func (m *memIO) ReadMemory(addr uint64, buf []byte) (int, error) {
	return copy(buf, m.mem[addr-m.base:]), nil
}

func (m *memIO) WriteMemory(addr uint64, data []byte) (int, error) {
	return copy(m.mem[addr-m.base:], data), nil
}

func (m *memIO) setRegs(*regs) error { m.set++; return nil }

// TestEmulationDecodesOnce: an instruction is decoded once per fault.
// Emulating one the Decoder has cached costs no allocation, because the
// emulator takes its opcode and operands from the insn.Inst that gave
// the accesses; decoding the bytes again with x86asm (as the emulator
// once did) boxes each memory operand. The instruction is still done: the
// memory and the registers are what the CPU would leave.
func TestEmulationDecodesOnce(t *testing.T) {
	s := start(t, "emu")
	const base = 0x10000
	e := &engine{pages: map[uint64]*page{base: {orig: protRead | protWrite, cur: 0}}}
	r := &regs{l: s.w.layout, buf: make([]byte, s.w.layout.size)}
	io := &memIO{base: base, mem: make([]byte, pageSize)}
	code := []byte{0x49, 0x01, 0x00} // add %rax, (%r8)
	var dec insn.Decoder
	var accBuf []insn.Access
	emulate := func() {
		r.set(insn.RIP, 0x401000)
		r.set(insn.R8, base+8)
		r.set(insn.RAX, 5)
		in, err := dec.Decode(code)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := insn.StepAccesses(in, r, accBuf[:0])
		if err != nil {
			t.Fatal(err)
		}
		accBuf = acc[:0]
		if ok, err := e.emulateInsn(io, r, in, acc); !ok || err != nil {
			t.Fatalf("add %%rax, (%%r8) not emulated: %v, %v", ok, err)
		}
	}
	emulate() // fills the decoder's cache and accBuf
	if got := binary.LittleEndian.Uint64(io.mem[8:]); got != 5 || r.pc() != 0x401003 || io.set != 1 {
		t.Fatalf("after add: memory %d (want 5), rip %#x (want 0x401003), %d register writes", got, r.pc(), io.set)
	}
	if n := testing.AllocsPerRun(100, emulate); n != 0 {
		t.Errorf("%.1f allocations per emulated instruction, want 0 (a second decode?)", n)
	}
	if got := binary.LittleEndian.Uint64(io.mem[8:]); got != 5*102 {
		t.Errorf("memory %d after 102 adds of 5, want %d", got, 5*102)
	}
}
