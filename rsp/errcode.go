package rsp

import "strconv"

// ErrorCode is the number in an error reply "E NN" (GDB manual, "Standard
// Replies"): two hex digits on the wire. GDB gives the number no meaning of
// its own, so gdbserverx uses errno values where one fits (Linux x86-64
// errno numbering, as gdbstub does) and documents each code in one table,
// ErrorCodeTable, from which the README's table is printed.
type ErrorCode uint8

// The error codes gdbserverx sends. The parser itself produces only
// CodeInvalid (a malformed packet: bad hex, wrong field count, a value out
// of range) and the reader only CodeTooLarge (a packet longer than the
// advertised PacketSize) and CodeInvalid (a dangling escape); every other
// code is chosen by the server.
const (
	// CodeNotPermitted is also gdbserver's answer to a Z packet it cannot
	// serve: gdb prints "Could not insert hardware watchpoint" for any
	// error reply, and scripts match gdbserver's E01.
	CodeNotPermitted   ErrorCode = 0x01 // EPERM
	CodeNoEntry        ErrorCode = 0x02 // ENOENT
	CodeNoProcess      ErrorCode = 0x03 // ESRCH
	CodeIO             ErrorCode = 0x05 // EIO
	CodeBadFD          ErrorCode = 0x09 // EBADF
	CodeTryAgain       ErrorCode = 0x0b // EAGAIN
	CodeAccess         ErrorCode = 0x0d // EACCES
	CodeBadAddress     ErrorCode = 0x0e // EFAULT
	CodeBusy           ErrorCode = 0x10 // EBUSY
	CodeInvalid        ErrorCode = 0x16 // EINVAL
	CodeNoSpace        ErrorCode = 0x1c // ENOSPC
	CodeNotImplemented ErrorCode = 0x26 // ENOSYS
	// CodeNoMoreRegisters answers lldb's qRegisterInfo past the last
	// register: debugserver's code, which lldb and Delve take for the
	// end of the list (no errno fits).
	CodeNoMoreRegisters ErrorCode = 0x45
	CodeTooLarge        ErrorCode = 0x5a // EMSGSIZE
)

// ErrorCodeInfo describes one error code for people: the README table and
// `monitor` help are printed from it.
type ErrorCodeInfo struct {
	Code        ErrorCode
	Name        string // errno-style name, e.g. "EINVAL"
	Description string // one line, lower case
}

var errorCodes = [...]ErrorCodeInfo{
	{CodeNotPermitted, "EPERM", "operation not permitted; also a Z packet the server cannot serve (gdb: \"Could not insert hardware watchpoint\")"},
	{CodeNoEntry, "ENOENT", "no such file, register, thread or object"},
	{CodeNoProcess, "ESRCH", "no such process or thread, or it just exited"},
	{CodeIO, "EIO", "the target failed to read or write"},
	{CodeBadFD, "EBADF", "bad host file descriptor"},
	{CodeTryAgain, "EAGAIN", "not now: the target is running or busy; try again"},
	{CodeAccess, "EACCES", "refused by the client's role (README, \"Security\") or this listener's policy (priority ceiling, pinning)"},
	{CodeBadAddress, "EFAULT", "bad memory address"},
	{CodeBusy, "EBUSY", "resource held by another client"},
	{CodeInvalid, "EINVAL", "malformed packet: bad hex, wrong field count, value out of range (a watchpoint longer than the longest served), or an escape with nothing to escape"},
	{CodeNoSpace, "ENOSPC", "the client holds the most hardware breakpoints and watchpoints one client may"},
	{CodeNotImplemented, "ENOSYS", "recognised but not implemented for this target"},
	{CodeNoMoreRegisters, "ENOREG", "no register of that number: the end of lldb's qRegisterInfo list (debugserver's code; no errno fits)"},
	{CodeTooLarge, "EMSGSIZE", "packet longer than the advertised PacketSize"},
}

// ErrorCodeTable returns every error code gdbserverx may send, in numeric
// order. The slice is a copy.
func ErrorCodeTable() []ErrorCodeInfo {
	t := errorCodes
	return t[:]
}

func (c ErrorCode) info() (ErrorCodeInfo, bool) {
	for _, e := range errorCodes {
		if e.Code == c {
			return e, true
		}
	}
	return ErrorCodeInfo{}, false
}

// String returns the code's errno-style name, or "E" and its two hex
// digits for a code outside the table.
func (c ErrorCode) String() string {
	if e, ok := c.info(); ok {
		return e.Name
	}
	return "E" + string(appendHexByte(nil, byte(c)))
}

// Description returns the one-line description of the code.
func (c ErrorCode) Description() string {
	if e, ok := c.info(); ok {
		return e.Description
	}
	return "error " + strconv.Itoa(int(c))
}
