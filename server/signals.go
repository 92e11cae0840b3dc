package server

import (
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// GDB numbers signals its own way on the wire (include/gdb/signals.def in
// GDB's sources: SIGUSR1 is 30, SIGSEGV 11, SIG32 is 77); Linux x86-64
// numbers them as in signal(7). These two functions are the only place the
// server translates between them.

// linuxToGDB maps Linux signal numbers 1-31 to GDB's. Real-time signals
// (32-64) are computed in gdbSignal.
var linuxToGDB = [32]rsp.GDBSignal{
	0:  0,
	1:  1,   // SIGHUP
	2:  2,   // SIGINT
	3:  3,   // SIGQUIT
	4:  4,   // SIGILL
	5:  5,   // SIGTRAP
	6:  6,   // SIGABRT
	7:  10,  // SIGBUS
	8:  8,   // SIGFPE
	9:  9,   // SIGKILL
	10: 30,  // SIGUSR1
	11: 11,  // SIGSEGV
	12: 31,  // SIGUSR2
	13: 13,  // SIGPIPE
	14: 14,  // SIGALRM
	15: 15,  // SIGTERM
	16: 143, // SIGSTKFLT: GDB has no name for it (GDB_SIGNAL_UNKNOWN)
	17: 20,  // SIGCHLD
	18: 19,  // SIGCONT
	19: 17,  // SIGSTOP
	20: 18,  // SIGTSTP
	21: 21,  // SIGTTIN
	22: 22,  // SIGTTOU
	23: 16,  // SIGURG
	24: 24,  // SIGXCPU
	25: 25,  // SIGXFSZ
	26: 26,  // SIGVTALRM
	27: 27,  // SIGPROF
	28: 28,  // SIGWINCH
	29: 23,  // SIGIO (SIGPOLL)
	30: 32,  // SIGPWR
	31: 12,  // SIGSYS
}

// GDB numbers of the real-time signals: SIG32 is 77, SIG33..SIG63 are
// 45..75, SIG64 is 78.
const (
	gdbSig32   rsp.GDBSignal = 77
	gdbSig33   rsp.GDBSignal = 45
	gdbSig64   rsp.GDBSignal = 78
	gdbUnknown rsp.GDBSignal = 143
)

// gdbSignal translates a Linux signal number to GDB's.
func gdbSignal(s target.Signal) rsp.GDBSignal {
	switch {
	case s >= 0 && int(s) < len(linuxToGDB):
		return linuxToGDB[s]
	case s == 32:
		return gdbSig32
	case s >= 33 && s <= 63:
		return gdbSig33 + rsp.GDBSignal(s-33)
	case s == 64:
		return gdbSig64
	}
	return gdbUnknown
}

// linuxSignal translates a GDB signal number to Linux's; ok is false for a
// GDB signal Linux does not have (SIGEMT, SIGLOST, ...).
func linuxSignal(g rsp.GDBSignal) (s target.Signal, ok bool) {
	switch {
	case g == gdbSig32:
		return 32, true
	case g >= gdbSig33 && g <= gdbSig33+30:
		return target.Signal(33 + g - gdbSig33), true
	case g == gdbSig64:
		return 64, true
	case g == gdbUnknown:
		return 0, false
	}
	for l, gg := range linuxToGDB {
		if gg == g {
			return target.Signal(l), true
		}
	}
	return 0, false
}
