package rsp

import (
	"errors"
	"testing"
)

// TestRegisterInfoReply: the qRegisterInfo reply against the exact bytes
// lldb reads (debugserver's order of keys), and back.
func TestRegisterInfoReply(t *testing.T) {
	for _, tc := range []struct {
		name string
		info RegisterInfo
		wire string
	}{
		{"general, with numbers and a role", RegisterInfo{Name: "rip", Bits: 64, Offset: 128, Encoding: "uint", Format: "hex", Set: "General Purpose Registers", GCC: 16, DWARF: 16, HasRegNums: true, Generic: "pc"},
			"name:rip;bitsize:64;offset:128;encoding:uint;format:hex;set:General Purpose Registers;gcc:16;dwarf:16;generic:pc;"},
		{"register 0", RegisterInfo{Name: "rax", Bits: 64, Encoding: "uint", Format: "hex", Set: "General Purpose Registers", HasRegNums: true},
			"name:rax;bitsize:64;offset:0;encoding:uint;format:hex;set:General Purpose Registers;gcc:0;dwarf:0;"},
		{"no numbers, no role", RegisterInfo{Name: "ymm0h", Bits: 128, Offset: 16, Encoding: "vector", Format: "vector-uint8", Set: "AVX Registers"},
			"name:ymm0h;bitsize:128;offset:16;encoding:vector;format:vector-uint8;set:AVX Registers;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.info.AppendPayload(nil)); got != tc.wire {
				t.Fatalf("AppendPayload:\n got %s\nwant %s", got, tc.wire)
			}
			back, err := ParseRegisterInfo([]byte(tc.wire))
			if err != nil {
				t.Fatal(err)
			}
			if *back != tc.info {
				t.Errorf("ParseRegisterInfo = %+v, want %+v", *back, tc.info)
			}
		})
	}
	// lldb's own keys the server does not send are skipped.
	if r, err := ParseRegisterInfo([]byte("name:rax;alt-name:arg1;bitsize:64;offset:0;ehframe:0;dwarf:0;")); err != nil || r.Name != "rax" || !r.HasRegNums {
		t.Errorf("with unknown keys: %+v, %v", r, err)
	}
	for _, bad := range []string{"name:rax", "name", "bitsize:x;", "dwarf:1;", "offset:;"} {
		var pe *ParseError
		if _, err := ParseRegisterInfo([]byte(bad)); !errors.As(err, &pe) {
			t.Errorf("ParseRegisterInfo(%q) = %v, want a *ParseError", bad, err)
		}
	}
	// Past the last register: debugserver's E45.
	if got := string(AppendError(nil, CodeNoMoreRegisters)); got != "E45" {
		t.Errorf("end of the register list: %q, want E45", got)
	}
}

// TestProcessInfoReply: the qProcessInfo reply against its exact bytes
// (ids in hex, name and triple hex-encoded), and back.
func TestProcessInfoReply(t *testing.T) {
	for _, tc := range []struct {
		name string
		info ProcessInfo
		wire string
	}{
		{"everything known", ProcessInfo{Pid: 0x2c1f, HasIDs: true, ParentPid: 0x2c1a, UID: 1000, GID: 1000, EUID: 0, EGID: 0,
			Name: "basic", Triple: "x86_64-pc-linux-gnu", OSType: "linux", Endian: "little", PointerSize: 8},
			"pid:2c1f;parent-pid:2c1a;real-uid:3e8;real-gid:3e8;effective-uid:0;effective-gid:0;name:6261736963;triple:7838365f36342d70632d6c696e75782d676e75;ostype:linux;endian:little;ptrsize:8;"},
		{"no ids, triple or OS type", ProcessInfo{Pid: 0x64, Name: "prog", Endian: "little", PointerSize: 8},
			"pid:64;name:70726f67;endian:little;ptrsize:8;"},
	} {
		if got := string(tc.info.AppendPayload(nil)); got != tc.wire {
			t.Fatalf("%s: AppendPayload:\n got %s\nwant %s", tc.name, got, tc.wire)
		}
		back, err := ParseProcessInfo([]byte(tc.wire))
		if err != nil {
			t.Fatal(err)
		}
		if *back != tc.info {
			t.Errorf("%s: ParseProcessInfo = %+v, want %+v", tc.name, *back, tc.info)
		}
	}
	for _, bad := range []string{"pid:zz;", "name:6;", "ptrsize:8", "triple;"} {
		var pe *ParseError
		if _, err := ParseProcessInfo([]byte(bad)); !errors.As(err, &pe) {
			t.Errorf("ParseProcessInfo(%q) = %v, want a *ParseError", bad, err)
		}
	}
}
