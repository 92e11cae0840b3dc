package server

import (
	"strings"
	"testing"

	"gdbserverx/target"
)

// TestRegisterInfoVector: lldb's qRegisterInfo for the AVX-512 and PKU
// registers of gdb's features (64bit-avx512.xml, 64bit-pkeys.xml): their
// offsets in the g packet, vector encodings, sets (named as lldb-server
// names them where it has the set: xmm0-15 with the x87 registers), and DWARF numbers
// (System V AMD64 ABI: xmm16-31 are 67-82, k0-7 118-125).
func TestRegisterInfoVector(t *testing.T) {
	d := (&target.Description{Features: []target.Feature{
		{Name: "org.gnu.gdb.i386.sse", Registers: []target.Register{{Name: "xmm0", Bits: 128, Type: "vec128"}}},
		{Name: "org.gnu.gdb.i386.avx", Registers: []target.Register{{Name: "ymm0h", Bits: 128, Type: "uint128"}}},
		{Name: "org.gnu.gdb.i386.avx512", Registers: []target.Register{
			{Name: "xmm16", Bits: 128, Type: "vec128"}, {Name: "ymm31h", Bits: 128, Type: "uint128"},
			{Name: "k7", Bits: 64, Type: "uint64"}, {Name: "zmm5h", Bits: 256, Type: "v2ui128"},
		}},
		{Name: "org.gnu.gdb.i386.pkeys", Registers: []target.Register{{Name: "pkru", Bits: 32, Type: "uint32"}}},
	}}).Finish()
	for _, c := range []struct {
		reg  string
		want string
	}{
		{"xmm0", "name:xmm0;bitsize:128;offset:0;encoding:vector;format:vector-uint8;set:Floating Point Registers;gcc:17;dwarf:17;"},
		{"ymm0h", "name:ymm0h;bitsize:128;offset:16;encoding:vector;format:vector-uint8;set:Advanced Vector Extensions;"},
		{"xmm16", "name:xmm16;bitsize:128;offset:32;encoding:vector;format:vector-uint8;set:AVX-512 Registers;gcc:67;dwarf:67;"},
		{"ymm31h", "name:ymm31h;bitsize:128;offset:48;encoding:vector;format:vector-uint8;set:AVX-512 Registers;"},
		{"k7", "name:k7;bitsize:64;offset:64;encoding:uint;format:hex;set:AVX-512 Registers;gcc:125;dwarf:125;"},
		{"zmm5h", "name:zmm5h;bitsize:256;offset:72;encoding:vector;format:vector-uint8;set:AVX-512 Registers;"},
		{"pkru", "name:pkru;bitsize:32;offset:104;encoding:uint;format:hex;set:Memory Protection Keys;"},
	} {
		r, ok := d.Lookup(c.reg)
		if !ok {
			t.Fatalf("no %s", c.reg)
		}
		info := registerInfoOf(r)
		if got := string(info.AppendPayload(nil)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.reg, got, c.want)
		}
	}
	for name, want := range map[string]bool{
		"xmm15": false, "xmm16": true, "xmm31": true, "ymm15h": false, "ymm16h": true, "k0": true, "k8": false,
		"zmm0h": true, "zmm31h": true, "rax": false, "kx": false, "xmmx": false,
	} {
		if got := avx512Register(name); got != want {
			t.Errorf("avx512Register(%q) = %v", name, got)
		}
	}
	if info := registerInfoOf(d.Registers()[0]); strings.Contains(info.Set, "AVX-512") {
		t.Errorf("xmm0 in the AVX-512 set")
	}
}
