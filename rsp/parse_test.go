package rsp

import (
	"bytes"
	"errors"
	"reflect"
	"sort"
	"testing"
)

// normalized drops what a request keeps for itself (Resume's inline
// action storage), so that values compare by what they say.
func normalized(r Request) Request {
	if res, ok := r.(*Resume); ok {
		c := *res
		c.inline = [4]ResumeAction{}
		c.Actions = append([]ResumeAction(nil), res.Actions...)
		return &c
	}
	return r
}

func sameRequest(a, b Request) bool {
	return reflect.DeepEqual(normalized(a), normalized(b))
}

func legacy(kind ResumeKind, sig GDBSignal) *Resume {
	return &Resume{Legacy: true, Actions: []ResumeAction{{Kind: kind, Signal: sig}}}
}

func legacyAt(kind ResumeKind, sig GDBSignal, addr uint64) *Resume {
	r := legacy(kind, sig)
	r.Addr, r.HasAddr = addr, true
	return r
}

func vcont(actions ...ResumeAction) *Resume { return &Resume{Actions: actions} }

func on(t ThreadID) (ThreadID, bool) { return t, true }

func act(kind ResumeKind, sig GDBSignal) ResumeAction {
	return ResumeAction{Kind: kind, Signal: sig}
}

func actOn(kind ResumeKind, sig GDBSignal, t ThreadID) ResumeAction {
	return ResumeAction{Kind: kind, Signal: sig, Thread: t, HasThread: true}
}

// agentExpr decodes the hex of a test case's bytecode.
func agentExpr(h string) AgentExpr {
	b, err := DecodeHex(nil, []byte(h))
	if err != nil {
		panic(err)
	}
	return b
}

func unknown(payload string) *Unknown {
	if payload == "" {
		return &Unknown{}
	}
	return &Unknown{Payload: []byte(payload)}
}

// throughWire formats req as a client sends it and parses it as a server
// reads it: framed, escaped, unescaped by a Reader, parsed.
func throughWire(req Request) (Request, error) {
	wire := AppendFrame(nil, req.AppendPayload(nil))
	f, err := NewReader(bytes.NewReader(wire), ReaderOptions{MaxPayload: 1 << 20}).ReadFrame()
	if err != nil {
		return nil, err
	}
	return Parse(f.Payload)
}

// parseCases lists, per packet kind, good inputs with the value they
// parse to and malformed ones (want nil: a CodeInvalid parse error). The
// overlaps of packet names are here too: vCont? and vCont;, qC and qCRC,
// QPassSignals and QProgramSignals, m and M, vFile:open and vFile:pread,
// the qXfer objects.
var parseCases = []struct {
	in   string
	want Request // nil: malformed
}{
	// Unknown packets.
	{"", unknown("")},
	{"jThreadExtendedInfo:", unknown("jThreadExtendedInfo:")},
	{"qTfV", unknown("qTfV")},
	{"qCRC:1000,10", unknown("qCRC:1000,10")},
	{"qC1", unknown("qC1")},
	{"vContX", unknown("vContX")},
	{"vFile:stat:2f", unknown("vFile:stat:2f")},
	{"vFile:openx:2f,0,0", unknown("vFile:openx:2f,0,0")},
	{"QStartNoAckModeX", unknown("QStartNoAckModeX")},
	{"qSupportedX", unknown("qSupportedX")},
	{"qXfer:btrace-conf:read::0,1000", unknown("qXfer:btrace-conf:read::0,1000")},
	{"qXfer:osdata:write::0,1000", unknown("qXfer:osdata:write::0,1000")},
	{"qXfer:auxv:write::0:ab", unknown("qXfer:auxv:write::0:ab")},
	{"Z5,1000,1", unknown("Z5,1000,1")},
	{"z9,1,1", unknown("z9,1,1")},
	{"Hs1", unknown("Hs1")},

	{"?", &QueryHaltReason{}},
	{"?x", nil},
	{"!", &EnableExtendedMode{}},
	{"!1", nil},

	{"qSupported", &QuerySupported{}},
	{"qSupported:", &QuerySupported{}},
	{"qSupported:multiprocess+;swbreak-;xmlRegisters=i386;foo?;empty=", &QuerySupported{Features: []Feature{
		{Name: "multiprocess", State: FeatureSupported},
		{Name: "swbreak", State: FeatureUnsupported},
		{Name: "xmlRegisters", State: FeatureValue, Value: "i386"},
		{Name: "foo", State: FeatureQuery},
		{Name: "empty", State: FeatureValue},
	}}},
	{"qSupported:bare", nil},
	{"qSupported:+", nil},
	{"qSupported:=x", nil},
	{"qSupported;x+", nil},

	{"QStartNoAckMode", &StartNoAckMode{}},
	{"QStartNoAckMode:1", nil},

	{"g", &ReadRegisters{}},
	{"g1", nil},
	{"G0011", &WriteRegisters{Data: []byte{0, 0x11}}},
	{"G", nil},
	{"G001", nil},
	{"Gzz", nil},
	{"p10", &ReadRegister{Reg: 0x10}},
	{"p", nil},
	{"px", nil},
	{"p100000000", nil},
	{"P10=0102", &WriteRegister{Reg: 0x10, Value: []byte{1, 2}}},
	{"P10", nil},
	{"P10=", nil},
	{"P=01", nil},
	{"P10=0g", nil},

	{"m401126,1", &ReadMemory{Addr: 0x401126, Length: 1}},
	{"mffffffffffffffff,7fffffff", &ReadMemory{Addr: 1<<64 - 1, Length: 1<<31 - 1}},
	{"m0000000000000000401126,1", &ReadMemory{Addr: 0x401126, Length: 1}},
	{"m10000000000000000,1", nil},
	{"m1,80000000", nil},
	{"m401126", nil},
	{"m,1", nil},
	{"m1,", nil},
	{"M1000,2:abcd", &WriteMemory{Addr: 0x1000, Data: []byte{0xab, 0xcd}}},
	{"M1000,0:", &WriteMemory{Addr: 0x1000}},
	{"M1000,2:abc", nil},
	{"M1000,3:abcd", nil},
	{"M1000,2", nil},
	{"M1000,2:abzz", nil},
	{"X1000,0:", &WriteMemory{Addr: 0x1000, Binary: true}},
	{"X55555555802c,4:}*#$", &WriteMemory{Addr: 0x55555555802c, Data: []byte("}*#$"), Binary: true}},
	{"X1000,4:a:b:", &WriteMemory{Addr: 0x1000, Data: []byte("a:b:"), Binary: true}},
	{"X1000,2:a", nil},
	{"X1000:ab", nil},

	{"Z0,401126,1", &InsertBreakpoint{Type: SoftwareBreakpoint, Addr: 0x401126, Kind: 1}},
	{"Z1,401126,1", &InsertBreakpoint{Type: HardwareBreakpoint, Addr: 0x401126, Kind: 1}},
	{"Z2,404028,4", &InsertBreakpoint{Type: WriteWatchpoint, Addr: 0x404028, Kind: 4}},
	{"Z3,404028,8", &InsertBreakpoint{Type: ReadWatchpoint, Addr: 0x404028, Kind: 8}},
	{"Z4,404028,2", &InsertBreakpoint{Type: AccessWatchpoint, Addr: 0x404028, Kind: 2}},
	{"Z0,1000,1;", &InsertBreakpoint{Addr: 0x1000, Kind: 1}},
	{"Z0,1000,1;X2,2001", &InsertBreakpoint{Addr: 0x1000, Kind: 1, Conditions: []AgentExpr{{0x20, 0x01}}}},
	{"Z0,1000,1;X2,2001X1,27", &InsertBreakpoint{Addr: 0x1000, Kind: 1, Conditions: []AgentExpr{{0x20, 0x01}, {0x27}}}},
	{"Z0,1000,1;X2,2001;cmds:1,X1,27X1,28", &InsertBreakpoint{Addr: 0x1000, Kind: 1,
		Conditions: []AgentExpr{{0x20, 0x01}}, Commands: []AgentExpr{{0x27}, {0x28}}, Persist: true}},
	{"Z0,1000,1;cmds:0,X1,27", &InsertBreakpoint{Addr: 0x1000, Kind: 1, Commands: []AgentExpr{{0x27}}}},
	// As gdb 13.1 sends them with target-side conditions and agent
	// dprintf (agentexpr/testdata/gdb13.txt has the bytecode's meaning):
	// the conditions of two breakpoints at one address, a dprintf, a
	// dprintf with a condition.
	{"Z0,401131,1;X12,26000622100222ec160802191620220a1327X12,26000622100222ec16080219162022141327",
		&InsertBreakpoint{Addr: 0x401131, Kind: 1, Conditions: []AgentExpr{
			agentExpr("26000622100222ec160802191620220a1327"), agentExpr("26000622100222ec16080219162022141327")}}},
	{"Z0,401131,1;cmds:1,X34,220024004040401a26000622100222e01608021a2220021a22002200340300135b252e33735d5b252d37735d5b25735d5c6e0027",
		&InsertBreakpoint{Addr: 0x401131, Kind: 1, Persist: true, Commands: []AgentExpr{
			agentExpr("220024004040401a26000622100222e01608021a2220021a22002200340300135b252e33735d5b252d37735d5b25735d5c6e0027")}}},
	{"Z0,401131,1;X12,26000622100222ec16080219162022071327;cmds:1,X21,26000622100222ec160802191620220022003401000a636f6e642025645c6e0027",
		&InsertBreakpoint{Addr: 0x401131, Kind: 1, Persist: true,
			Conditions: []AgentExpr{agentExpr("26000622100222ec16080219162022071327")},
			Commands:   []AgentExpr{agentExpr("26000622100222ec160802191620220022003401000a636f6e642025645c6e0027")}}},
	{"Z0,401131,1;X12,26000622100222ec16080219162022071327;cmds:1,X21,26", nil},
	{"Z0,401131,1;X13,26000622100222ec16080219162022071327", nil},
	{"Z0,1000,1;X3,20", nil},
	{"Z0,1000,1;X0,", nil},
	{"Z0,1000,1;junk", nil},
	{"Z0,1000,1;cmds:2,X1,27", nil},
	{"Z0,1000,1;cmds:1,", nil},
	{"Z0,1000", nil},
	{"Z0,1000,", nil},
	{"Zx,1000,1", nil},
	{"Z", nil},
	{"z0,401126,1", &RemoveBreakpoint{Type: SoftwareBreakpoint, Addr: 0x401126, Kind: 1}},
	{"z2,404028,4", &RemoveBreakpoint{Type: WriteWatchpoint, Addr: 0x404028, Kind: 4}},
	{"z2,404028,4;X1,00", nil},
	{"z2,404028", nil},

	{"c", legacy(ResumeContinue, 0)},
	{"c401000", legacyAt(ResumeContinue, 0, 0x401000)},
	{"cx", nil},
	{"C05", legacy(ResumeContinue, 5)},
	{"C0b;401000", legacyAt(ResumeContinue, 11, 0x401000)},
	{"C", nil},
	{"C100", nil},
	{"C05;", nil},
	{"C05;zz", nil},
	{"s", legacy(ResumeStep, 0)},
	{"s401000", legacyAt(ResumeStep, 0, 0x401000)},
	{"S0b", legacy(ResumeStep, 11)},
	{"S0b;1000", legacyAt(ResumeStep, 11, 0x1000)},
	{"Sx", nil},

	{"vCont;c:p-1.-1", vcont(actOn(ResumeContinue, 0, ProcessThread(IDAll, IDAll)))},
	{"vCont;s:pa410.a410;c", vcont(actOn(ResumeStep, 0, ProcessThread(0xa410, 0xa410)), act(ResumeContinue, 0))},
	{"vCont;C05:1;c", vcont(actOn(ResumeContinue, 5, SingleThread(1)), act(ResumeContinue, 0))},
	{"vCont;S0b:p1.2;t:p1.3", vcont(actOn(ResumeStep, 11, ProcessThread(1, 2)), actOn(ResumeStop, 0, ProcessThread(1, 3)))},
	{"vCont;r1000,2000:p1.1;c", vcont(
		ResumeAction{Kind: ResumeRangeStep, RangeStart: 0x1000, RangeEnd: 0x2000, Thread: ProcessThread(1, 1), HasThread: true},
		act(ResumeContinue, 0))},
	{"vCont;c:p2987", vcont(actOn(ResumeContinue, 0, ProcessThread(0x2987, IDAll)))},
	{"vCont;s:1;s:2;s:3;s:4;s:5;c", vcont(
		actOn(ResumeStep, 0, SingleThread(1)), actOn(ResumeStep, 0, SingleThread(2)),
		actOn(ResumeStep, 0, SingleThread(3)), actOn(ResumeStep, 0, SingleThread(4)),
		actOn(ResumeStep, 0, SingleThread(5)), act(ResumeContinue, 0))},
	{"vCont", nil},
	{"vCont;", nil},
	{"vCont;c;", nil},
	{"vCont;x", nil},
	{"vCont;c:", nil},
	{"vCont;c:p-1.5", nil},
	{"vCont;c:-2", nil},
	{"vCont;c1", nil},
	{"vCont;C", nil},
	{"vCont;C100", nil},
	{"vCont;r1000", nil},
	{"vCont;t1", nil},
	{"vCont?", &QueryResumeActions{}},
	{"vCont?x", nil},
	{"vCtrlC", &Interrupt{}},
	{"vStopped", &Stopped{}},
	{"vCtrlC;", nil},

	{"Hgp0.0", &SelectThread{For: PurposeGeneral, Thread: ProcessThread(0, 0)}},
	{"Hc-1", &SelectThread{For: PurposeResume, Thread: SingleThread(IDAll)}},
	{"Hg1a", &SelectThread{For: PurposeGeneral, Thread: SingleThread(0x1a)}},
	{"Hgp1", &SelectThread{For: PurposeGeneral, Thread: ProcessThread(1, IDAll)}},
	{"H", nil},
	{"Hg", nil},
	{"Hgp", nil},
	{"Hg-2", nil},
	{"Hgp1.", nil},
	{"Hg80000000", nil},
	{"T1a", &QueryThreadAlive{Thread: SingleThread(0x1a)}},
	{"Tp1.2", &QueryThreadAlive{Thread: ProcessThread(1, 2)}},
	{"T", nil},
	{"qC", &QueryCurrentThread{}},
	{"qC:1", nil},
	{"qfThreadInfo", &ListThreads{}},
	{"qsThreadInfo", &ListThreads{Subsequent: true}},
	{"qsThreadInfo,", nil},
	{"qThreadExtraInfo,p1.2", &QueryThreadExtraInfo{Thread: ProcessThread(1, 2)}},
	{"qThreadExtraInfo", nil},
	{"qThreadExtraInfo,zz", nil},
	{"qAttached", &QueryAttached{}},
	{"qAttached:a410", &QueryAttached{Pid: 0xa410, HasPid: true}},
	{"qAttached:", nil},
	{"qAttached:zz", nil},

	{"qXfer:features:read:target.xml:0,ffb", &ReadXfer{Object: XferFeatures, Annex: "target.xml", Length: 0xffb}},
	{"qXfer:features:read:64bit-core.xml:1000,1000", &ReadXfer{Object: XferFeatures, Annex: "64bit-core.xml", Offset: 0x1000, Length: 0x1000}},
	{"qXfer:threads:read::0,ffb", &ReadXfer{Object: XferThreads, Length: 0xffb}},
	{"qXfer:auxv:read::0,ffb", &ReadXfer{Object: XferAuxv, Length: 0xffb}},
	{"qXfer:exec-file:read:a410:0,ffb", &ReadXfer{Object: XferExecFile, Annex: "a410", Length: 0xffb}},
	{"qXfer:libraries-svr4:read::0,ffb", &ReadXfer{Object: XferLibrariesSVR4, Length: 0xffb}},
	{"qXfer:siginfo:read::0,80", &ReadXfer{Object: XferSiginfo, Length: 0x80}},
	{"qXfer:osdata:read::0,fff", &ReadXfer{Object: XferOSData, Length: 0xfff}},
	{"qXfer:osdata:read:processes:1000,fff", &ReadXfer{Object: XferOSData, Annex: "processes", Offset: 0x1000, Length: 0xfff}},
	{"qXfer:siginfo:write::8:\x01:\x02", &WriteXfer{Object: XferSiginfo, Offset: 8, Data: []byte("\x01:\x02")}},
	{"qXfer:siginfo:write::8:", &WriteXfer{Object: XferSiginfo, Offset: 8}},
	{"qXfer:siginfo:write::8", nil},
	{"qXfer:features:read:target.xml:0", nil},
	{"qXfer:features:read:target.xml", nil},
	{"qXfer:features:read", nil},
	{"qXfer:features:read:target.xml:0,80000000", nil},

	{"QPassSignals:e;10;14;", &PassSignals{Signals: []GDBSignal{0xe, 0x10, 0x14}}},
	{"QPassSignals:", &PassSignals{}},
	{"QPassSignals:zz", nil},
	{"QPassSignals:100", nil},
	{"QPassSignals", nil},
	{"QProgramSignals:0;1;3", &ProgramSignals{Signals: []GDBSignal{0, 1, 3}}},
	{"QProgramSignals;0", nil},

	{"qRcmd,68656c70", &MonitorCommand{Command: "help"}},
	{"qRcmd,", &MonitorCommand{}},
	{"qRcmd,6", nil},
	{"qRcmd,zz", nil},
	{"qRcmd", nil},

	{"k", &Kill{}},
	{"k1", nil},
	{"vKill;a410", &KillProcess{Pid: 0xa410}},
	{"vKill", nil},
	{"vKill;", nil},
	{"D", &Detach{}},
	{"D;a410", &Detach{Pid: 0xa410, HasPid: true}},
	{"D;", nil},
	{"Dx", nil},
	{"vAttach;1f", &Attach{Pid: 0x1f}},
	{"vAttach;x", nil},
	{"vAttach", nil},
	{"vRun;", &Run{}},
	{"vRun;2f746d702f727370782f70726f67;61;622063", &Run{Program: "/tmp/rspx/prog", Args: []string{"a", "b c"}}},
	{"vRun;;61;", &Run{Args: []string{"a", ""}}},
	{"vRun;zz", nil},
	{"vRun;2f;6", nil},
	{"vRun", nil},

	{"vFile:setfs:0", &FileSetFS{}},
	{"vFile:setfs:a410", &FileSetFS{Pid: 0xa410}},
	{"vFile:open:6a7573742070726f62696e67,0,1c0", &FileOpen{Path: "just probing", Mode: 0x1c0}},
	{"vFile:pread:5,3fff,0", &FileRead{FD: 5, Count: 0x3fff}},
	{"vFile:pwrite:5,10,ab}c,", &FileWrite{FD: 5, Offset: 0x10, Data: []byte("ab}c,")}},
	{"vFile:close:5", &FileClose{FD: 5}},
	{"vFile:fstat:5", &FileStat{FD: 5}},
	{"vFile:readlink:2f70726f63", &FileReadlink{Path: "/proc"}},
	{"vFile:unlink:2f746d70", &FileUnlink{Path: "/tmp"}},
	{"vFile:setfs", nil},
	{"vFile:open:zz,0,0", nil},
	{"vFile:open:,0,0", nil},
	{"vFile:open:2f,0", nil},
	{"vFile:open:2f,0,100000000", nil},
	{"vFile:pread:5,3fff", nil},
	{"vFile:pread:5,80000000,0", nil},
	{"vFile:pwrite:5,10", nil},
	{"vFile:close", nil},
	{"vFile:close:", nil},
	{"vFile:fstat:x", nil},
	{"vFile:readlink:", nil},
	{"vFile:unlink:2", nil},

	{"qSymbol::", &SymbolsReady{}},
	{"qSymbol::5f5f6e70746c5f76657273696f6e", &SymbolValue{Name: "__nptl_version"}},
	{"qSymbol:7ffff7f6d83a:5f5f6e70746c5f76657273696f6e", &SymbolValue{Name: "__nptl_version", Value: 0x7ffff7f6d83a, Known: true}},
	{"qSymbol:12:", nil},
	{"qSymbol", nil},
	{"qSymbol:", nil},
	{"qSymbol:zz:61", nil},
	{"qSymbol::6", nil},
	{"qOffsets", &QueryOffsets{}},
	{"qRegisterInfo0", &QueryRegisterInfo{Reg: 0}},
	{"qRegisterInfo1f", &QueryRegisterInfo{Reg: 0x1f}},
	{"qRegisterInfo", nil},
	{"qProcessInfo", &QueryProcessInfo{}},
	{"qProcessInfo:1", nil},
	{"qRegisterInfozz", nil},

	// lldb's queries.
	{"QThreadSuffixSupported", &EnableThreadSuffix{}},
	{"QThreadSuffixSupported:1", nil},
	{"p0;thread:4148;", &ReadRegister{Reg: 0, ThreadSuffix: ThreadSuffix{Thread: SingleThread(0x4148), Has: true}}},
	{"p1a;thread:p5cce.5cce;", &ReadRegister{Reg: 0x1a, ThreadSuffix: ThreadSuffix{Thread: ProcessThread(0x5cce, 0x5cce), Has: true}}},
	{"g;thread:4148;", &ReadRegisters{ThreadSuffix: ThreadSuffix{Thread: SingleThread(0x4148), Has: true}}},
	{"P7=e8e5;thread:5cce;", &WriteRegister{Reg: 7, Value: []byte{0xe8, 0xe5}, ThreadSuffix: ThreadSuffix{Thread: SingleThread(0x5cce), Has: true}}},
	{"G0102;thread:5cce;", &WriteRegisters{Data: []byte{1, 2}, ThreadSuffix: ThreadSuffix{Thread: SingleThread(0x5cce), Has: true}}},
	{"p0;thread:4148", nil},
	{"p0;thread:;", nil},
	{"p0;thread:-1;", nil},
	{"g;thread:zz;", nil},
	{"g;x", nil},
	{"qHostInfo", &QueryHostInfo{}},
	{"qHostInfo:1", nil},
	{"qShlibInfoAddr", &QueryShlibInfoAddr{}},
	{"qShlibInfoAddr;x", nil},
	{"QListThreadsInStopReply", &ListThreadsInStopReply{}},
	{"QListThreadsInStopReply:1", nil},
	{"qThreadStopInfo1234", &QueryThreadStopInfo{Thread: SingleThread(0x1234)}},
	{"qThreadStopInfop5cce.5d16", &QueryThreadStopInfo{Thread: ProcessThread(0x5cce, 0x5d16)}},
	{"qThreadStopInfo", nil},
	{"qThreadStopInfo-1", nil},
	{"qThreadStopInfozz", nil},
	{"jThreadsInfo", &QueryThreadsInfo{}},
	{"jThreadsInfo:", &QueryThreadsInfo{HasOptions: true}},
	{`jThreadsInfo:{"registers":false}`, &QueryThreadsInfo{Options: `{"registers":false}`, HasOptions: true}},
	{"jThreadsInfox", unknown("jThreadsInfox")},
	{"qMemoryRegionInfo:7ffff7fc8000", &QueryMemoryRegion{Addr: 0x7ffff7fc8000}},
	{"qMemoryRegionInfo:0", &QueryMemoryRegion{}},
	{"qMemoryRegionInfo", nil},
	{"qMemoryRegionInfo:", nil},
	{"qMemoryRegionInfo:zz", nil},
	{"qWatchpointSupportInfo", &QueryWatchpointSupport{}},
	{"qWatchpointSupportInfo:", &QueryWatchpointSupport{Colon: true}},
	{"qWatchpointSupportInfo:1", nil},
	{"qTStatus", &QueryTraceStatus{}},
	{"vMustReplyEmpty", &MustReplyEmpty{}},

	{"QDisableRandomization:1", &SetDisableRandomization{Disable: true}},
	{"QDisableRandomization:0", &SetDisableRandomization{}},
	{"QDisableRandomization:2", nil},
	{"QDisableRandomization", nil},
	{"QEnvironmentHexEncoded:464f4f3d6261722062617a", &SetEnvironment{Name: "FOO", Value: "bar baz"}},
	{"QEnvironmentHexEncoded:464f4f3d", &SetEnvironment{Name: "FOO"}},
	{"QEnvironmentHexEncoded:464f4f", nil},
	{"QEnvironmentHexEncoded:3d61", nil},
	{"QEnvironmentHexEncoded:", nil},
	{"QEnvironmentReset", &ResetEnvironment{}},
	{"QEnvironmentUnset:484f4d45", &UnsetEnvironment{Name: "HOME"}},
	{"QEnvironmentUnset:", nil},
	{"QSetWorkingDir:2f746d70", &SetWorkingDir{Dir: "/tmp"}},
	{"QSetWorkingDir:", &SetWorkingDir{}},
	{"QSetWorkingDir", nil},
	{"QStartupWithShell:1", &SetStartupWithShell{Enabled: true}},
	{"QStartupWithShell:", nil},
	{"QThreadEvents:1", &SetThreadEvents{Enabled: true}},
	{"QThreadEvents:01", nil},
	{"QNonStop:0", &SetNonStop{}},
	{"QNonStop:1", &SetNonStop{Enabled: true}},
	{"QCatchSyscalls:0", &SetCatchSyscalls{}},
	{"QCatchSyscalls:1", &SetCatchSyscalls{Enabled: true}},
	{"QCatchSyscalls:1;1;3c", &SetCatchSyscalls{Enabled: true, Syscalls: []uint64{1, 0x3c}}},
	{"QCatchSyscalls:0;1", nil},
	{"QCatchSyscalls:1;", nil},
	{"QCatchSyscalls:1;zz", nil},
	{"QCatchSyscalls:2", nil},
	{"qGetTLSAddr:p1.2,10,7ffff000", &QueryTLSAddr{Thread: ProcessThread(1, 2), Offset: 0x10, LinkMap: 0x7ffff000}},
	{"qGetTLSAddr:1,2", nil},
	{"qGetTLSAddr:x,2,3", nil},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		got, err := Parse([]byte(tc.in))
		if tc.want == nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Code != CodeInvalid || pe.Packet == "" || pe.Reason == "" {
				t.Errorf("Parse(%q) = %#v, %v; want a CodeInvalid parse error", tc.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !sameRequest(got, tc.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tc.in, normalized(got), tc.want)
			continue
		}
		// format(parse(x)) parses back to the same value.
		again, err := throughWire(got)
		if err != nil || !sameRequest(again, got) {
			t.Errorf("parse(format(Parse(%q))) = %#v, %v; formatted %q", tc.in, again, err, got.AppendPayload(nil))
		}
	}
}

// TestParseCoversEveryPacket checks that every packet kind of the table
// has a good case in parseCases, under the name PacketName reports.
func TestParseCoversEveryPacket(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range parseCases {
		if tc.want != nil {
			seen[tc.want.PacketName()] = true
		}
	}
	var missing []string
	for _, name := range PacketNames() {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("packets without a good parse case: %v", missing)
	}
}

func TestPacketNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range PacketNames() {
		if seen[n] {
			t.Errorf("packet %q twice in the table", n)
		}
		seen[n] = true
	}
}

func TestUnknownPacketName(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"qThreadStopInfo1234": "qThreadStopInfo1234",
		"qCRC:1000,10":        "qCRC",
		"vFile:stat:2f":       "vFile",
		"y12":                 "y",
	} {
		if got := unknown(in).PacketName(); got != want {
			t.Errorf("Unknown(%q).PacketName() = %q, want %q", in, got, want)
		}
	}
}

// TestRequestOutlivesFrame checks that a request does not alias the
// payload it was parsed from: the reader reuses that buffer.
func TestRequestOutlivesFrame(t *testing.T) {
	var p Parser
	for _, tc := range parseCases {
		if tc.want == nil {
			continue
		}
		buf := []byte(tc.in)
		got, err := p.Parse(buf)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		for i := range buf {
			buf[i] = '#'
		}
		if !sameRequest(got, tc.want) {
			t.Errorf("Parse(%q) changed with its buffer: %#v", tc.in, normalized(got))
		}
	}
}

func TestResumeResolve(t *testing.T) {
	for _, tc := range []struct {
		in   string
		hc   ThreadID
		want []ResumeAction
	}{
		{"c", SingleThread(IDAll), []ResumeAction{act(ResumeContinue, 0)}},
		{"c", ProcessThread(0, 0), []ResumeAction{act(ResumeContinue, 0)}},
		{"C05", SingleThread(IDAny), []ResumeAction{act(ResumeContinue, 5)}},
		{"s", ProcessThread(7, 9), []ResumeAction{actOn(ResumeStep, 0, ProcessThread(7, 9)), act(ResumeContinue, 0)}},
		{"S0b", SingleThread(9), []ResumeAction{actOn(ResumeStep, 11, SingleThread(9)), act(ResumeContinue, 0)}},
		{"c", ProcessThread(7, IDAll), []ResumeAction{actOn(ResumeContinue, 0, ProcessThread(7, IDAll))}},
		{"vCont;s:1", SingleThread(9), []ResumeAction{actOn(ResumeStep, 0, SingleThread(1))}},
	} {
		req, err := Parse([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		r := req.(*Resume)
		r.Resolve(tc.hc)
		if r.Legacy || !reflect.DeepEqual(r.Actions, tc.want) {
			t.Errorf("%q resolved with Hc %v = %+v (legacy %v), want %+v", tc.in, tc.hc, r.Actions, r.Legacy, tc.want)
		}
	}
}

func TestThreadID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ThreadID
		ok   bool
		all  bool
		any  bool
	}{
		{"1a", SingleThread(0x1a), true, false, false},
		{"-1", SingleThread(IDAll), true, true, false},
		{"0", SingleThread(IDAny), true, false, true},
		{"p1.2", ProcessThread(1, 2), true, false, false},
		{"p1", ProcessThread(1, IDAll), true, true, false},
		{"p-1", ProcessThread(IDAll, IDAll), true, true, false},
		{"p-1.-1", ProcessThread(IDAll, IDAll), true, true, false},
		{"p0.0", ProcessThread(0, 0), true, false, true},
		{"p1.0", ProcessThread(1, 0), true, false, true},
		{"7fffffff", SingleThread(1<<31 - 1), true, false, false},
		{"80000000", ThreadID{}, false, false, false},
		{"p-1.2", ThreadID{}, false, false, false},
		{"-2", ThreadID{}, false, false, false},
		{"", ThreadID{}, false, false, false},
		{"p", ThreadID{}, false, false, false},
		{"p.1", ThreadID{}, false, false, false},
		{"1.2", ThreadID{}, false, false, false},
	} {
		got, ok := parseThreadID([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseThreadID(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.IsAll() != tc.all || got.IsAny() != tc.any {
			t.Errorf("%q: IsAll %v IsAny %v", tc.in, got.IsAll(), got.IsAny())
		}
		if back, _ := parseThreadID([]byte(got.String())); back != got {
			t.Errorf("%q formats as %q, which parses as %+v", tc.in, got.String(), back)
		}
	}
	if s := AllThreads(true).String(); s != "p-1.-1" {
		t.Errorf("AllThreads(true) = %q", s)
	}
	if s := AllThreads(false).String(); s != "-1" {
		t.Errorf("AllThreads(false) = %q", s)
	}
	if s := AnyThread(true).String(); s != "p0.0" {
		t.Errorf("AnyThread(true) = %q", s)
	}
}

func TestMonitorFields(t *testing.T) {
	m := &MonitorCommand{Command: "  priority   5 \n"}
	if got := m.Fields(); !reflect.DeepEqual(got, []string{"priority", "5"}) {
		t.Errorf("Fields = %q", got)
	}
}

func TestSupportedLookup(t *testing.T) {
	req, err := Parse([]byte("qSupported:multiprocess+;swbreak-;xmlRegisters=i386"))
	if err != nil {
		t.Fatal(err)
	}
	q := req.(*QuerySupported)
	if !q.Supports("multiprocess") || q.Supports("swbreak") || q.Supports("hwbreak") {
		t.Error("Supports is wrong")
	}
	if v, ok := q.Value("xmlRegisters"); !ok || v != "i386" {
		t.Errorf("Value = %q, %v", v, ok)
	}
}
