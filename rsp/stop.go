package rsp

import (
	"errors"
	"strconv"
)

// Stop replies (GDB manual, "Stop Reply Packets"): a typed value, formatted
// in one place, StopReply.AppendPayload.

// StopKind is the form of a stop reply.
type StopKind uint8

// The stop reply forms.
const (
	// StopSignal is "T AA n:r;...": a thread stopped with signal AA.
	// Breakpoints, watchpoints and steps report SignalTRAP.
	StopSignal StopKind = iota + 1
	// StopExited is "W AA[;process:pid]": the process exited with status AA.
	StopExited
	// StopTerminated is "X AA[;process:pid]": the process was killed by
	// signal AA.
	StopTerminated
	// StopThreadExited is "w AA;tid": a thread exited (after QThreadEvents:1).
	StopThreadExited
	// StopNoResumed is "N": no thread is left to resume (no-resumed+).
	StopNoResumed
)

// String returns a name for the value, for logs and messages.
func (k StopKind) String() string {
	switch k {
	case StopSignal:
		return "signal"
	case StopExited:
		return "exited"
	case StopTerminated:
		return "terminated"
	case StopThreadExited:
		return "thread exited"
	case StopNoResumed:
		return "no resumed"
	}
	return "StopKind(?)"
}

// StopReason is the reason key of a "T" stop reply; a reply carries at
// most one.
type StopReason uint8

// The reasons (GDB manual, "Stop Reply Packets"). Send swbreak and
// hwbreak only to a client that sent "swbreak+" or "hwbreak+" in
// qSupported; fork, vfork and vforkdone only with "fork-events+" and
// "vfork-events+"; exec only with "exec-events+".
const (
	ReasonNone          StopReason = iota
	ReasonWatch                    // watch:ADDR; a write watchpoint fired
	ReasonReadWatch                // rwatch:ADDR;
	ReasonAccessWatch              // awatch:ADDR;
	ReasonSoftwareBreak            // swbreak:; the pc is at the breakpoint
	ReasonHardwareBreak            // hwbreak:;
	ReasonLibrary                  // library:; the library list changed
	ReasonExec                     // exec:HEXPATH; the process called exec
	ReasonCreate                   // create:; a new thread (QThreadEvents)
	ReasonFork                     // fork:CHILD;
	ReasonVFork                    // vfork:CHILD;
	ReasonVForkDone                // vforkdone:;
	ReasonSyscallEntry             // syscall_entry:NR;
	ReasonSyscallReturn            // syscall_return:NR;
)

var reasonKeys = [...]string{
	ReasonWatch:         "watch",
	ReasonReadWatch:     "rwatch",
	ReasonAccessWatch:   "awatch",
	ReasonSoftwareBreak: "swbreak",
	ReasonHardwareBreak: "hwbreak",
	ReasonLibrary:       "library",
	ReasonExec:          "exec",
	ReasonCreate:        "create",
	ReasonFork:          "fork",
	ReasonVFork:         "vfork",
	ReasonVForkDone:     "vforkdone",
	ReasonSyscallEntry:  "syscall_entry",
	ReasonSyscallReturn: "syscall_return",
}

// String returns the reason's key on the wire ("watch", "swbreak"), or
// "none".
func (r StopReason) String() string {
	if r == ReasonNone {
		return "none"
	}
	if int(r) < len(reasonKeys) {
		return reasonKeys[r]
	}
	return "StopReason(" + strconv.Itoa(int(r)) + ")"
}

// ExpeditedRegister is a register value sent in a stop reply ("NN:value;")
// to save gdb a round trip: typically the frame pointer, stack pointer and
// pc (x86-64 registers 6, 7 and 0x10).
type ExpeditedRegister struct {
	Reg   RegNum
	Value []byte // target byte order
}

// StopReply is a stop reply. Fields a form does not use are ignored.
// Building one reuses the caller's slices and strings; AppendPayload does
// not allocate given a dst with capacity.
type StopReply struct {
	Kind StopKind
	// Signal is the signal of StopSignal and StopTerminated.
	Signal GDBSignal
	// ExitCode is the status of StopExited and StopThreadExited.
	ExitCode uint8

	// Thread is the thread that stopped (StopSignal: "thread:ID;"; with
	// StopThreadExited the thread that exited), when HasThread is set.
	Thread    ThreadID
	HasThread bool
	// Core is the CPU the thread last ran on ("core:N;"), when HasCore is
	// set.
	Core    int
	HasCore bool
	// Registers are expedited, in this order.
	Registers []ExpeditedRegister

	// Reason and its value: Addr for the watch reasons, ExecPath for
	// ReasonExec, Child for ReasonFork and ReasonVFork, Syscall for the
	// syscall reasons.
	Reason   StopReason
	Addr     uint64
	ExecPath string
	Child    ThreadID
	Syscall  uint64

	// Pid is the process of StopExited and StopTerminated
	// (";process:PID", multiprocess clients only), when HasPid is set.
	Pid    int64
	HasPid bool

	// lldb's keys of a T reply ("Stop reply packet extensions" of lldb's
	// protocol extensions, in lldb-server's order), for clients that
	// speak lldb's dialect: the thread's name ("name:NAME;", or
	// "hexname:HEX;" when the name holds a byte a packet cannot carry as
	// it is), every thread of the process and its pc (after
	// QListThreadsInStopReply: "threads:TID,...;thread-pcs:PC,...;", tids
	// without the pPID. form, as lldb-server writes them), and the stop
	// reason in lldb's words ("reason:breakpoint;"). A watchpoint's
	// reason is its watch key, which lldb reads as "watchpoint".
	Name      string
	Threads   []int64
	ThreadPCs []uint64
	Why       LLDBReason
}

// LLDBReason is the "reason:" of an lldb stop reply: lldb-server's words.
type LLDBReason string

// The reasons gdbserverx gives lldb.
const (
	LLDBNone       LLDBReason = ""
	LLDBBreakpoint LLDBReason = "breakpoint" // a software breakpoint lldb set
	LLDBTrace      LLDBReason = "trace"      // a single step completed
	LLDBSignal     LLDBReason = "signal"     // a signal (Ctrl-C included: SIGSTOP)
	LLDBExec       LLDBReason = "exec"       // the process called exec
)

// validLLDBReason says a reason can be written as it is: lower-case words.
func validLLDBReason(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if (c < 'a' || c > 'z') && c != ' ' {
			return false
		}
	}
	return true
}

// plainName says a thread name can go in "name:" as it is.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == ';' || c == ':' || c == '#' || c == '$' || c == '}' || c == '*' {
			return false
		}
	}
	return s != ""
}

// AppendPayload appends the stop reply's wire form. The order of the T
// reply's fields is gdbserver's: reason, registers, thread, core; lldb's
// keys come after the thread, lldb's reason last.
func (s *StopReply) AppendPayload(dst []byte) []byte {
	switch s.Kind {
	case StopExited, StopTerminated:
		if s.Kind == StopExited {
			dst = append(dst, 'W')
			dst = appendHexByte(dst, s.ExitCode)
		} else {
			dst = append(dst, 'X')
			dst = appendHexByte(dst, byte(s.Signal))
		}
		if s.HasPid {
			dst = append(dst, ";process:"...)
			dst = AppendUint(dst, uint64(s.Pid))
		}
		return dst
	case StopThreadExited:
		dst = append(dst, 'w')
		dst = appendHexByte(dst, s.ExitCode)
		dst = append(dst, ';')
		return s.Thread.AppendTo(dst)
	case StopNoResumed:
		return append(dst, 'N')
	}
	dst = append(dst, 'T')
	dst = appendHexByte(dst, byte(s.Signal))
	if s.Reason != ReasonNone && int(s.Reason) < len(reasonKeys) {
		dst = append(dst, reasonKeys[s.Reason]...)
		dst = append(dst, ':')
		switch s.Reason {
		case ReasonWatch, ReasonReadWatch, ReasonAccessWatch:
			dst = AppendUint(dst, s.Addr)
		case ReasonExec:
			dst = AppendHexString(dst, s.ExecPath)
		case ReasonFork, ReasonVFork:
			dst = s.Child.AppendTo(dst)
		case ReasonSyscallEntry, ReasonSyscallReturn:
			dst = AppendUint(dst, s.Syscall)
		}
		dst = append(dst, ';')
	}
	for _, r := range s.Registers {
		if r.Reg < 0x10 {
			dst = append(dst, '0')
		}
		dst = AppendUint(dst, uint64(r.Reg))
		dst = append(dst, ':')
		dst = AppendHex(dst, r.Value)
		dst = append(dst, ';')
	}
	if s.HasThread {
		dst = append(dst, "thread:"...)
		dst = s.Thread.AppendTo(dst)
		dst = append(dst, ';')
	}
	if s.Name != "" {
		if plainName(s.Name) {
			dst = append(dst, "name:"...)
			dst = append(dst, s.Name...)
		} else {
			dst = append(dst, "hexname:"...)
			dst = AppendHexString(dst, s.Name)
		}
		dst = append(dst, ';')
	}
	if len(s.Threads) > 0 {
		dst = append(dst, "threads:"...)
		for i, t := range s.Threads {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendUint(dst, uint64(t))
		}
		dst = append(dst, ';')
	}
	if len(s.ThreadPCs) > 0 {
		dst = append(dst, "thread-pcs:"...)
		for i, pc := range s.ThreadPCs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendUint(dst, pc)
		}
		dst = append(dst, ';')
	}
	if s.HasCore {
		dst = append(dst, "core:"...)
		dst = AppendUint(dst, uint64(s.Core))
		dst = append(dst, ';')
	}
	if s.Why != LLDBNone {
		dst = append(dst, "reason:"...)
		dst = append(dst, s.Why...)
		dst = append(dst, ';')
	}
	return dst
}

// parseHexList parses "HEX,HEX,..." (lldb's threads and thread-pcs), each
// at most max.
func parseHexList(b []byte, max uint64) ([]uint64, bool) {
	var out []uint64
	for len(b) > 0 {
		var item []byte
		item, b, _ = cutByte(b, ',')
		v, ok := parseHex(item)
		if !ok || v > max {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

var errBadStopReply = errors.New("rsp: malformed stop reply")

// ParseStopReply parses a stop reply, the client side of AppendPayload.
// It accepts what servers send: "S AA", single-digit statuses, keys it
// does not know (skipped, as gdb does). The result does not alias payload.
func ParseStopReply(payload []byte) (*StopReply, error) {
	if len(payload) == 0 {
		return nil, errBadStopReply
	}
	s := &StopReply{}
	body := payload[1:]
	switch payload[0] {
	case 'N':
		if len(body) != 0 {
			return nil, errBadStopReply
		}
		s.Kind = StopNoResumed
		return s, nil
	case 'W', 'X':
		s.Kind = StopExited
		if payload[0] == 'X' {
			s.Kind = StopTerminated
		}
		code, rest, more := cutByte(body, ';')
		v, ok := parseHex(code)
		if !ok || v > 0xff {
			return nil, errBadStopReply
		}
		s.ExitCode, s.Signal = uint8(v), GDBSignal(v)
		if s.Kind == StopExited {
			s.Signal = 0
		} else {
			s.ExitCode = 0
		}
		if more {
			pid, ok := cutPrefix(rest, "process:")
			if !ok {
				return nil, errBadStopReply
			}
			if s.Pid, ok = parsePid(pid); !ok {
				return nil, errBadStopReply
			}
			s.HasPid = true
		}
		return s, nil
	case 'w':
		code, tid, found := cutByte(body, ';')
		v, ok := parseHex(code)
		if !found || !ok || v > 0xff {
			return nil, errBadStopReply
		}
		s.Kind, s.ExitCode, s.HasThread = StopThreadExited, uint8(v), true
		if s.Thread, ok = parseThreadID(tid); !ok {
			return nil, errBadStopReply
		}
		return s, nil
	case 'S', 'T':
	default:
		return nil, errBadStopReply
	}
	s.Kind = StopSignal
	if len(body) < 2 {
		return nil, errBadStopReply
	}
	sig, ok := parseSignal(body[:2])
	if !ok {
		return nil, errBadStopReply
	}
	s.Signal = sig
	if payload[0] == 'S' {
		if len(body) != 2 {
			return nil, errBadStopReply
		}
		return s, nil
	}
	for rest := body[2:]; len(rest) > 0; {
		var field []byte
		field, rest, _ = cutByte(rest, ';')
		key, value, found := cutByte(field, ':')
		if !found {
			return nil, errBadStopReply
		}
		if err := s.parseField(key, value); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *StopReply) parseField(key, value []byte) error {
	ok := true
	switch string(key) {
	case "thread":
		s.Thread, ok = parseThreadID(value)
		s.HasThread = true
	case "core":
		var v uint64
		v, ok = parseHex(value)
		ok = ok && v <= maxID
		s.Core, s.HasCore = int(v), true
	case "name":
		s.Name = string(value)
	case "hexname":
		var b []byte
		b, err := DecodeHex(nil, value)
		ok = err == nil
		s.Name = string(b)
	case "threads":
		var tids []uint64
		tids, ok = parseHexList(value, maxID)
		s.Threads = nil
		for _, t := range tids {
			s.Threads = append(s.Threads, int64(t))
		}
	case "thread-pcs":
		s.ThreadPCs, ok = parseHexList(value, ^uint64(0))
	case "reason":
		// lldb's words; anything else is skipped, as an unknown key.
		if validLLDBReason(value) {
			s.Why = LLDBReason(value)
		}
	default:
		for r, k := range reasonKeys {
			if k != "" && k == string(key) {
				return s.parseReason(StopReason(r), value)
			}
		}
		// A register number, or a key this parser does not know: the
		// manual tells clients to skip keys that are not hex numbers.
		n, isReg := parseRegNum(key)
		if !isReg {
			return nil
		}
		v, err := DecodeHex(nil, value)
		if err != nil {
			return errBadStopReply
		}
		s.Registers = append(s.Registers, ExpeditedRegister{Reg: n, Value: v})
	}
	if !ok {
		return errBadStopReply
	}
	return nil
}

func (s *StopReply) parseReason(r StopReason, value []byte) error {
	if s.Reason != ReasonNone {
		return errBadStopReply
	}
	s.Reason = r
	ok := true
	switch r {
	case ReasonWatch, ReasonReadWatch, ReasonAccessWatch:
		s.Addr, ok = parseHex(value)
	case ReasonExec:
		var b []byte
		b, err := DecodeHex(nil, value)
		ok = err == nil
		s.ExecPath = string(b)
	case ReasonFork, ReasonVFork:
		s.Child, ok = parseThreadID(value)
	case ReasonSyscallEntry, ReasonSyscallReturn:
		s.Syscall, ok = parseHex(value)
	default:
		ok = len(value) == 0
	}
	if !ok {
		return errBadStopReply
	}
	return nil
}

func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return nil, false
	}
	return b[len(prefix):], true
}
