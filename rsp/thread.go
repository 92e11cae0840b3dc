package rsp

import "strconv"

// Special values of a ThreadID's Pid or Tid (GDB manual, "Packets",
// thread-id syntax).
const (
	// IDAll (-1) stands for all processes or all threads.
	IDAll int64 = -1
	// IDAny (0) stands for any process or thread, the server's choice.
	IDAny int64 = 0
)

// ThreadID is a thread id as the wire writes it: "TID", or with the
// multiprocess extension "pPID.TID" ("pPID" alone means all of the
// process's threads). Numbers are hex; -1 is IDAll, 0 is IDAny. It is not a
// kernel tid: the server maps one to the other.
type ThreadID struct {
	// Pid is the process, in the multiprocess form only.
	Pid int64
	// Tid is the thread, or IDAll, or IDAny.
	Tid int64
	// Multiprocess says the id has the pPID.TID form. Write it so only to
	// a client that sent "multiprocess+" in qSupported.
	Multiprocess bool
}

// SingleThread returns the plain thread id TID.
func SingleThread(tid int64) ThreadID { return ThreadID{Tid: tid} }

// ProcessThread returns the multiprocess thread id pPID.TID.
func ProcessThread(pid, tid int64) ThreadID {
	return ThreadID{Pid: pid, Tid: tid, Multiprocess: true}
}

// AllThreads returns the id "-1" (every thread of every process); with
// multiprocess it returns "p-1.-1".
func AllThreads(multiprocess bool) ThreadID {
	return ThreadID{Pid: pidIf(multiprocess, IDAll), Tid: IDAll, Multiprocess: multiprocess}
}

// AnyThread returns the id "0"; with multiprocess "p0.0".
func AnyThread(multiprocess bool) ThreadID {
	return ThreadID{Tid: IDAny, Multiprocess: multiprocess}
}

func pidIf(mp bool, v int64) int64 {
	if mp {
		return v
	}
	return 0
}

// IsAll reports whether the id names every thread (of its process, or of
// every process).
func (t ThreadID) IsAll() bool { return t.Tid == IDAll }

// IsAny reports whether the id leaves the choice of thread (of its
// process, if it names one) to the server.
func (t ThreadID) IsAny() bool { return t.Tid == IDAny }

// AppendTo appends the wire form of t.
func (t ThreadID) AppendTo(dst []byte) []byte {
	if t.Multiprocess {
		dst = append(dst, 'p')
		dst = appendInt(dst, t.Pid)
		dst = append(dst, '.')
	}
	return appendInt(dst, t.Tid)
}

// String returns the wire form of t.
func (t ThreadID) String() string { return string(t.AppendTo(nil)) }

// maxID bounds thread and process ids: the wire allows any hex number, a
// kernel id fits in 31 bits, and a larger one is a malformed packet.
const maxID = 1<<31 - 1

// parseThreadID parses a thread id as GDB writes it.
func parseThreadID(b []byte) (ThreadID, bool) {
	var t ThreadID
	if len(b) > 0 && b[0] == 'p' {
		t.Multiprocess = true
		pid, rest, hasTid := cutByte(b[1:], '.')
		var ok bool
		if t.Pid, ok = parseIDPart(pid); !ok {
			return ThreadID{}, false
		}
		if !hasTid {
			// "pPID": all threads of PID.
			t.Tid = IDAll
			return t, true
		}
		b = rest
	}
	var ok bool
	if t.Tid, ok = parseIDPart(b); !ok {
		return ThreadID{}, false
	}
	if t.Multiprocess && t.Pid == IDAll && t.Tid != IDAll {
		// "p-1.TID" names a thread of every process: meaningless.
		return ThreadID{}, false
	}
	return t, true
}

func parseIDPart(b []byte) (int64, bool) {
	if len(b) == 2 && b[0] == '-' && b[1] == '1' {
		return IDAll, true
	}
	v, ok := parseHex(b)
	if !ok || v > maxID {
		return 0, false
	}
	return int64(v), true
}

// GDBSignal is a signal number as GDB numbers it on the wire
// (include/gdb/signals.def in GDB's sources), which is not the Linux
// numbering: SIGUSR1 is 30, SIGBUS 10. The server translates. 0 means no
// signal.
type GDBSignal uint16

// maxSignal bounds the signal numbers a packet may carry: stop replies
// write them as two hex digits.
const maxSignal = 0xff

// Some GDB signal numbers used by the protocol itself.
const (
	SignalNone GDBSignal = 0
	SignalINT  GDBSignal = 2  // what a Ctrl-C stop reports
	SignalTRAP GDBSignal = 5  // breakpoints, watchpoints and steps
	SignalKILL GDBSignal = 9  // a killed process
	SignalSTOP GDBSignal = 17 // GDB's number, not Linux's 19
)

var gdbSignalNames = [...]string{
	0: "0", 1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGEMT", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGBUS",
	11: "SIGSEGV", 12: "SIGSYS", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGURG", 17: "SIGSTOP", 18: "SIGTSTP", 19: "SIGCONT", 20: "SIGCHLD",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGIO", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGLOST",
	30: "SIGUSR1", 31: "SIGUSR2", 32: "SIGPWR", 33: "SIGPOLL",
}

// String returns GDB's name of the signal for the classic ones and the
// number otherwise.
func (s GDBSignal) String() string {
	if int(s) < len(gdbSignalNames) {
		return gdbSignalNames[s]
	}
	return "GDBSignal(" + strconv.Itoa(int(s)) + ")"
}

func parseSignal(b []byte) (GDBSignal, bool) {
	v, ok := parseHex(b)
	if !ok || v > maxSignal {
		return 0, false
	}
	return GDBSignal(v), true
}

// parseHex parses an unsigned hex number that fits in 64 bits, leading
// zeros allowed.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for len(b) > 16 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d := unhex(c)
		if d > 0xf {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// cutByte slices b around the first sep, like bytes.Cut.
func cutByte(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}
