package rsp

import (
	"reflect"
	"testing"
)

var (
	regRBP = ExpeditedRegister{Reg: 6, Value: []byte{0xf0, 0xe6, 0xff, 0xff, 0xff, 0x7f, 0, 0}}
	regRSP = ExpeditedRegister{Reg: 7, Value: []byte{0x40, 0xe4, 0xff, 0xff, 0xff, 0x7f, 0, 0}}
	regRIP = ExpeditedRegister{Reg: 0x10, Value: []byte{0x74, 0x7a, 0xfe, 0xf7, 0xff, 0x7f, 0, 0}}
)

var stopCases = []struct {
	name string
	stop StopReply
	want string
}{
	{"step, as gdbserver sends it",
		StopReply{Kind: StopSignal, Signal: SignalTRAP, Registers: []ExpeditedRegister{regRBP, regRSP, regRIP},
			Thread: ProcessThread(0x2987, 0x2987), HasThread: true, Core: 1, HasCore: true},
		"T0506:f0e6ffffff7f0000;07:40e4ffffff7f0000;10:747afef7ff7f0000;thread:p2987.2987;core:1;"},
	{"software breakpoint",
		StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonSoftwareBreak, Thread: ProcessThread(1, 2), HasThread: true},
		"T05swbreak:;thread:p1.2;"},
	{"hardware breakpoint",
		StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonHardwareBreak, Thread: SingleThread(2), HasThread: true},
		"T05hwbreak:;thread:2;"},
	{"write watchpoint",
		StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonWatch, Addr: 0x55555555802c, Thread: ProcessThread(0x29db, 0x29ee), HasThread: true},
		"T05watch:55555555802c;thread:p29db.29ee;"},
	{"read watchpoint", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonReadWatch, Addr: 0x1000}, "T05rwatch:1000;"},
	{"access watchpoint", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonAccessWatch, Addr: 0x1000}, "T05awatch:1000;"},
	{"library", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonLibrary}, "T05library:;"},
	{"exec", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonExec, ExecPath: "/bin/ls"}, "T05exec:2f62696e2f6c73;"},
	{"thread created", StopReply{Kind: StopSignal, Signal: SignalNone, Reason: ReasonCreate, Thread: SingleThread(3), HasThread: true}, "T00create:;thread:3;"},
	{"fork", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonFork, Child: ProcessThread(9, 9)}, "T05fork:p9.9;"},
	{"vfork", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonVFork, Child: ProcessThread(9, 9)}, "T05vfork:p9.9;"},
	{"vfork done", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonVForkDone}, "T05vforkdone:;"},
	{"syscall entry", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonSyscallEntry, Syscall: 1}, "T05syscall_entry:1;"},
	{"syscall return", StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonSyscallReturn, Syscall: 0x3c}, "T05syscall_return:3c;"},
	{"interrupted", StopReply{Kind: StopSignal, Signal: SignalINT, Thread: SingleThread(5), HasThread: true}, "T02thread:5;"},
	{"exited", StopReply{Kind: StopExited, ExitCode: 3}, "W03"},
	{"exited, multiprocess", StopReply{Kind: StopExited, ExitCode: 3, Pid: 0x29db, HasPid: true}, "W03;process:29db"},
	{"killed by signal", StopReply{Kind: StopTerminated, Signal: SignalKILL, Pid: 0x29db, HasPid: true}, "X09;process:29db"},
	{"thread exited", StopReply{Kind: StopThreadExited, ExitCode: 0, Thread: ProcessThread(1, 2), HasThread: true}, "w00;p1.2"},
	{"no resumed", StopReply{Kind: StopNoResumed}, "N"},
	{"lldb's breakpoint, as lldb-server sends it",
		StopReply{Kind: StopSignal, Signal: SignalTRAP, Registers: []ExpeditedRegister{regRIP}, Thread: ProcessThread(0x5cce, 0x5cce), HasThread: true,
			Name: "clients", Threads: []int64{0x5cce, 0x5d16}, ThreadPCs: []uint64{0x555555555213, 0x7ffff7e5c619}, Core: 1, HasCore: true, Why: LLDBBreakpoint},
		"T0510:747afef7ff7f0000;thread:p5cce.5cce;name:clients;threads:5cce,5d16;thread-pcs:555555555213,7ffff7e5c619;core:1;reason:breakpoint;"},
	{"lldb's stop by a signal, a name that needs hex",
		StopReply{Kind: StopSignal, Signal: SignalSTOP, Thread: SingleThread(7), HasThread: true, Name: "a;b", Why: LLDBSignal},
		"T11thread:7;hexname:613b62;reason:signal;"},
	{"lldb's watchpoint: the watch key is the reason",
		StopReply{Kind: StopSignal, Signal: SignalTRAP, Reason: ReasonWatch, Addr: 0x5555555580a0, Thread: SingleThread(7), HasThread: true, Name: "worker-1"},
		"T05watch:5555555580a0;thread:7;name:worker-1;"},
}

func TestStopReply(t *testing.T) {
	for _, tc := range stopCases {
		got := string(tc.stop.AppendPayload(nil))
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			continue
		}
		back, err := ParseStopReply([]byte(got))
		if err != nil {
			t.Errorf("%s: ParseStopReply(%q): %v", tc.name, got, err)
			continue
		}
		want := tc.stop
		if want.Registers == nil {
			want.Registers = back.Registers // nil either way
		}
		if !reflect.DeepEqual(*back, want) {
			t.Errorf("%s: ParseStopReply(%q) = %+v, want %+v", tc.name, got, *back, want)
		}
	}
}

func TestParseStopReplyFromServers(t *testing.T) {
	for in, want := range map[string]StopReply{
		"S05":                        {Kind: StopSignal, Signal: 5},
		"W3;process:29db":            {Kind: StopExited, ExitCode: 3, Pid: 0x29db, HasPid: true},
		"T05watch:000055555555802c;": {Kind: StopSignal, Signal: 5, Reason: ReasonWatch, Addr: 0x55555555802c},
		"T05future:xyz;thread:1;":    {Kind: StopSignal, Signal: 5, Thread: SingleThread(1), HasThread: true},
	} {
		got, err := ParseStopReply([]byte(in))
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("ParseStopReply(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "T", "T5", "Tzz", "S05;", "W", "Wzz", "W100", "W1;pid:2", "X09;process:", "w00", "Nx",
		"T05thread:zz;", "T05watch:zz;", "T05watch;", "T05swbreak:1;", "T05swbreak:;hwbreak:;", "T0506:0g;", "OK"} {
		if s, err := ParseStopReply([]byte(in)); err == nil {
			t.Errorf("ParseStopReply(%q) = %+v, want an error", in, s)
		}
	}
}

// TestStopReplyDoesNotAllocate: building and framing a stop reply into
// reused buffers costs nothing.
func TestStopReplyDoesNotAllocate(t *testing.T) {
	stop := &stopCases[0].stop
	payload := make([]byte, 0, 512)
	frame := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(1000, func() {
		payload = stop.AppendPayload(payload[:0])
		frame = AppendFrameRLE(frame[:0], payload)
	})
	if allocs != 0 {
		t.Errorf("stop reply allocates %v times, want 0", allocs)
	}
}
