package rsp

import "strconv"

// Settings gdb sends before it starts or attaches to a program, and
// connection modes. Each is answered OK (or empty if unsupported).

func strconvQuote(b []byte) string { return strconv.Quote(string(b)) }

// parseFlag parses ":0" or ":1".
func parseFlag(name string, args []byte) (bool, error) {
	if len(args) != 2 || args[0] != ':' || (args[1] != '0' && args[1] != '1') {
		return false, malformed(name, "expected :0 or :1")
	}
	return args[1] == '1', nil
}

func appendFlag(dst []byte, name string, on bool) []byte {
	dst = append(dst, name...)
	if on {
		return append(dst, ":1"...)
	}
	return append(dst, ":0"...)
}

// SetDisableRandomization is "QDisableRandomization:0|1" (GDB manual,
// "General Query Packets"): start programs with address space layout
// randomization off (1) or on (0).
type SetDisableRandomization struct {
	Disable bool
}

// PacketName implements Request.
func (*SetDisableRandomization) PacketName() string { return "QDisableRandomization" }

// AppendPayload implements Request.
func (s *SetDisableRandomization) AppendPayload(dst []byte) []byte {
	return appendFlag(dst, "QDisableRandomization", s.Disable)
}

func parseDisableRandomization(_ *Parser, name string, args []byte) (Request, error) {
	on, err := parseFlag(name, args)
	if err != nil {
		return nil, err
	}
	return &SetDisableRandomization{Disable: on}, nil
}

// SetStartupWithShell is "QStartupWithShell:0|1" (GDB manual, "General
// Query Packets"): start programs through the shell, as gdb's `run` does.
type SetStartupWithShell struct {
	Enabled bool
}

// PacketName implements Request.
func (*SetStartupWithShell) PacketName() string { return "QStartupWithShell" }

// AppendPayload implements Request.
func (s *SetStartupWithShell) AppendPayload(dst []byte) []byte {
	return appendFlag(dst, "QStartupWithShell", s.Enabled)
}

func parseStartupWithShell(_ *Parser, name string, args []byte) (Request, error) {
	on, err := parseFlag(name, args)
	if err != nil {
		return nil, err
	}
	return &SetStartupWithShell{Enabled: on}, nil
}

// SetThreadEvents is "QThreadEvents:0|1" (GDB manual, "General Query
// Packets"): report thread creation and exit as stop events.
type SetThreadEvents struct {
	Enabled bool
}

// PacketName implements Request.
func (*SetThreadEvents) PacketName() string { return "QThreadEvents" }

// AppendPayload implements Request.
func (s *SetThreadEvents) AppendPayload(dst []byte) []byte {
	return appendFlag(dst, "QThreadEvents", s.Enabled)
}

func parseThreadEvents(_ *Parser, name string, args []byte) (Request, error) {
	on, err := parseFlag(name, args)
	if err != nil {
		return nil, err
	}
	return &SetThreadEvents{Enabled: on}, nil
}

// SetNonStop is "QNonStop:0|1" (GDB manual, "General Query Packets"):
// switch between all-stop (0) and non-stop (1) mode.
type SetNonStop struct {
	Enabled bool
}

// PacketName implements Request.
func (*SetNonStop) PacketName() string { return "QNonStop" }

// AppendPayload implements Request.
func (s *SetNonStop) AppendPayload(dst []byte) []byte {
	return appendFlag(dst, "QNonStop", s.Enabled)
}

func parseNonStop(_ *Parser, name string, args []byte) (Request, error) {
	on, err := parseFlag(name, args)
	if err != nil {
		return nil, err
	}
	return &SetNonStop{Enabled: on}, nil
}

// SetCatchSyscalls is "QCatchSyscalls:0", "QCatchSyscalls:1" or
// "QCatchSyscalls:1;sysno;sysno..." (GDB manual, "General Query Packets"):
// stop at entry and return of every system call, of the listed ones (hex
// numbers of the program's ABI), or of none.
type SetCatchSyscalls struct {
	Enabled  bool
	Syscalls []uint64 // empty with Enabled: every system call
}

// PacketName implements Request.
func (*SetCatchSyscalls) PacketName() string { return "QCatchSyscalls" }

// AppendPayload implements Request.
func (s *SetCatchSyscalls) AppendPayload(dst []byte) []byte {
	dst = appendFlag(dst, "QCatchSyscalls", s.Enabled)
	for _, n := range s.Syscalls {
		dst = append(dst, ';')
		dst = AppendUint(dst, n)
	}
	return dst
}

func parseCatchSyscalls(_ *Parser, name string, args []byte) (Request, error) {
	flag, list, hasList := cutByte(args, ';')
	on, err := parseFlag(name, flag)
	if err != nil {
		return nil, err
	}
	s := &SetCatchSyscalls{Enabled: on}
	if !hasList {
		return s, nil
	}
	if !on {
		return nil, malformed(name, "system call list with :0")
	}
	for len(list) > 0 {
		var item []byte
		item, list, _ = cutByte(list, ';')
		n, ok := parseHex(item)
		if !ok {
			return nil, malformed(name, "bad system call number "+quoteBytes(item))
		}
		s.Syscalls = append(s.Syscalls, n)
	}
	if len(s.Syscalls) == 0 {
		return nil, malformed(name, "empty system call list")
	}
	return s, nil
}

// SetEnvironment is "QEnvironmentHexEncoded:hex" (GDB manual, "General
// Query Packets"): set NAME=VALUE, hex-encoded, in the environment of
// programs started later.
type SetEnvironment struct {
	Name, Value string
}

// PacketName implements Request.
func (*SetEnvironment) PacketName() string { return "QEnvironmentHexEncoded" }

// AppendPayload implements Request.
func (s *SetEnvironment) AppendPayload(dst []byte) []byte {
	dst = append(dst, "QEnvironmentHexEncoded:"...)
	dst = AppendHexString(dst, s.Name)
	dst = appendHexByte(dst, '=')
	return AppendHexString(dst, s.Value)
}

func parseSetEnvironment(p *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	v, ok := p.arena.hexString(args[1:])
	if !ok {
		return nil, malformed(name, "bad hex")
	}
	i := indexByteString(v, '=')
	if i <= 0 {
		return nil, malformed(name, "expected NAME=VALUE")
	}
	return &SetEnvironment{Name: v[:i], Value: v[i+1:]}, nil
}

func indexByteString(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// ResetEnvironment is "QEnvironmentReset" (GDB manual, "General Query
// Packets"): forget every QEnvironmentHexEncoded and QEnvironmentUnset.
type ResetEnvironment struct{}

// PacketName implements Request.
func (*ResetEnvironment) PacketName() string { return "QEnvironmentReset" }

// AppendPayload implements Request.
func (*ResetEnvironment) AppendPayload(dst []byte) []byte {
	return append(dst, "QEnvironmentReset"...)
}

func parseResetEnvironment(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &ResetEnvironment{})
}

// UnsetEnvironment is "QEnvironmentUnset:hex" (GDB manual, "General Query
// Packets"): remove the hex-encoded variable from the environment of
// programs started later.
type UnsetEnvironment struct {
	Name string
}

// PacketName implements Request.
func (*UnsetEnvironment) PacketName() string { return "QEnvironmentUnset" }

// AppendPayload implements Request.
func (u *UnsetEnvironment) AppendPayload(dst []byte) []byte {
	dst = append(dst, "QEnvironmentUnset:"...)
	return AppendHexString(dst, u.Name)
}

func parseUnsetEnvironment(p *Parser, name string, args []byte) (Request, error) {
	if len(args) < 2 || args[0] != ':' {
		return nil, malformed(name, "expected ':' and a variable name")
	}
	v, ok := p.arena.hexString(args[1:])
	if !ok {
		return nil, malformed(name, "bad hex")
	}
	return &UnsetEnvironment{Name: v}, nil
}

// SetWorkingDir is "QSetWorkingDir:[hex]" (GDB manual, "General Query
// Packets"): the working directory of programs started later; empty means
// the server's own.
type SetWorkingDir struct {
	Dir string
}

// PacketName implements Request.
func (*SetWorkingDir) PacketName() string { return "QSetWorkingDir" }

// AppendPayload implements Request.
func (s *SetWorkingDir) AppendPayload(dst []byte) []byte {
	dst = append(dst, "QSetWorkingDir:"...)
	return AppendHexString(dst, s.Dir)
}

func parseSetWorkingDir(p *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	v, ok := p.arena.hexString(args[1:])
	if !ok {
		return nil, malformed(name, "bad hex")
	}
	return &SetWorkingDir{Dir: v}, nil
}
