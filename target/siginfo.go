package target

// SigInfoSize is the size of a Linux siginfo_t, the raw form of
// ThreadStop.SigInfo.
const SigInfoSize = 128

// SigInfoWriter is the optional capability of changing what a thread
// stopped by a signal receives with it (gdb's `set $_siginfo...`,
// carried by qXfer:siginfo:write).
type SigInfoWriter interface {
	// SetSigInfo replaces the siginfo_t (SigInfoSize bytes) of thread
	// tid's stop: resumed with the signal of that stop, the thread
	// receives it with this siginfo (a handler installed with
	// SA_SIGINFO reads it). Only while stopped.
	SetSigInfo(tid Tid, info []byte) error
}
