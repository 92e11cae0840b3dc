package server

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// qRegisterInfo is lldb's way of learning the registers (lldb's
// gdb-remote protocol extensions); lldb and Delve's gdbserial client ask
// for it before target.xml. The answer comes from the same register table
// as target.xml and the g packet: a register's offset is its place in the
// g packet.

// dwarfAMD64 maps register names to their DWARF (and eh_frame) numbers in
// the System V AMD64 ABI ("DWARF Register Number Mapping").
var dwarfAMD64 = map[string]int{
	"rax": 0, "rdx": 1, "rcx": 2, "rbx": 3, "rsi": 4, "rdi": 5, "rbp": 6, "rsp": 7,
	"r8": 8, "r9": 9, "r10": 10, "r11": 11, "r12": 12, "r13": 13, "r14": 14, "r15": 15,
	"rip": 16, "eflags": 49, "es": 50, "cs": 51, "ss": 52, "ds": 53, "fs": 54, "gs": 55,
	"fs_base": 58, "gs_base": 59, "mxcsr": 64, "fctrl": 65, "fstat": 66,
}

// genericAMD64 names the registers lldb gives a role.
var genericAMD64 = map[string]string{
	"rip": "pc", "rsp": "sp", "rbp": "fp", "eflags": "flags",
	"rdi": "arg1", "rsi": "arg2", "rdx": "arg3", "rcx": "arg4", "r8": "arg5", "r9": "arg6",
}

func init() {
	for i := 0; i < 16; i++ {
		dwarfAMD64[fmt.Sprintf("xmm%d", i)] = 17 + i
		dwarfAMD64[fmt.Sprintf("xmm%d", 16+i)] = 67 + i // AVX-512
	}
	for i := 0; i < 8; i++ {
		dwarfAMD64[fmt.Sprintf("st%d", i)] = 33 + i
		dwarfAMD64[fmt.Sprintf("k%d", i)] = 118 + i
	}
}

// registerInfo answers qRegisterInfoN, or E45 (lldb's end-of-list
// answer, rsp.CodeNoMoreRegisters) past the last register.
func (p *process) registerInfo(c *client, r *rsp.QueryRegisterInfo) {
	reg, ok := p.register(r.Reg)
	if !ok {
		c.replyError(rsp.CodeNoMoreRegisters)
		return
	}
	info := registerInfoOf(reg)
	c.reply(info.AppendPayload(c.scratch()))
}

// The register sets, named as lldb-server names them where it has the
// set (x86-64 Linux): `register read` shows the first, `register read
// --all` each in turn.
const (
	setGeneral = "General Purpose Registers"
	setFloat   = "Floating Point Registers" // x87, SSE (xmm0-15) and mxcsr, as lldb-server groups them
	setAVX     = "Advanced Vector Extensions"
	setAVX512  = "AVX-512 Registers"
	setPKU     = "Memory Protection Keys"
)

// registerInfoOf is one register in lldb's words, for qRegisterInfo and
// lldb's target.xml (lldb.go).
func registerInfoOf(reg target.Register) rsp.RegisterInfo {
	enc, format, set := "uint", "hex", setGeneral
	switch reg.Type {
	case "i387_ext", "vec128", "uint128", "v2ui128":
		enc, format, set = "vector", "vector-uint8", setFloat
	}
	switch {
	case reg.Group == "float" || reg.Name == "mxcsr":
		set = setFloat
	case avx512Register(reg.Name):
		set = setAVX512
	case strings.HasPrefix(reg.Name, "ymm"):
		set = setAVX
	case reg.Name == "pkru":
		set = setPKU
	}
	info := rsp.RegisterInfo{Name: reg.Name, Bits: reg.Bits, Offset: reg.Offset, Encoding: enc, Format: format, Set: set,
		Generic: genericAMD64[reg.Name]}
	// eh_frame (gcc) and DWARF numbers are the same on x86-64.
	info.DWARF, info.HasRegNums = dwarfAMD64[reg.Name]
	info.GCC = info.DWARF
	return info
}

// avx512Register says whether name is one of the registers of gdb's
// org.gnu.gdb.i386.avx512 feature: xmm16-31, ymm16h-31h, k0-7, zmm0h-31h.
func avx512Register(name string) bool {
	if strings.HasPrefix(name, "zmm") && strings.HasSuffix(name, "h") {
		return true
	}
	if len(name) == 2 && name[0] == 'k' && name[1] >= '0' && name[1] <= '7' {
		return true
	}
	for _, p := range []string{"xmm", "ymm"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(rest, "h"))
			return err == nil && n >= 16
		}
	}
	return false
}

// processInfo answers lldb's qProcessInfo: who the process is, as the
// target tells it (target.ProcessInfoReader); a target that cannot tell
// gets the fields lldb can do without left out.
func (p *process) processInfo(c *client) {
	reply := rsp.ProcessInfo{Pid: int64(p.pid), Name: filepath.Base(p.execName()), Endian: "little", PointerSize: 8}
	if p.info != nil {
		if info, err := p.info.ProcessInfo(); err != nil {
			p.log.debugf("qProcessInfo: %v", err)
		} else {
			reply.HasIDs = true
			reply.ParentPid, reply.UID, reply.GID, reply.EUID, reply.EGID = int64(info.PPid), int64(info.UID), int64(info.GID), int64(info.EUID), int64(info.EGID)
			reply.Triple, reply.OSType = info.Triple, info.OSType
		}
	}
	c.reply(reply.AppendPayload(c.scratch()))
}
