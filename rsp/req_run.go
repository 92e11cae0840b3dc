package rsp

// Run control, threads and processes.

// ResumeKind is what a resume action does to its threads.
type ResumeKind uint8

// The resume actions of vCont (GDB manual, "Packets", vCont).
const (
	ResumeContinue  ResumeKind = iota + 1 // c, C sig
	ResumeStep                            // s, S sig
	ResumeStop                            // t: stop the thread (non-stop)
	ResumeRangeStep                       // r start,end: step while pc is in [start,end)
)

// String returns a name for the value, for logs and messages.
func (k ResumeKind) String() string {
	switch k {
	case ResumeContinue:
		return "continue"
	case ResumeStep:
		return "step"
	case ResumeStop:
		return "stop"
	case ResumeRangeStep:
		return "range step"
	}
	return "ResumeKind(?)"
}

// ResumeAction is one action of a resume request.
type ResumeAction struct {
	Kind ResumeKind
	// Signal is delivered to the thread as it resumes (C, S);
	// SignalNone for none.
	Signal GDBSignal
	// Thread is the thread the action applies to, when HasThread is set.
	// An action without a thread applies to every thread no earlier
	// action of the request names.
	Thread    ThreadID
	HasThread bool
	// RangeStart and RangeEnd bound a ResumeRangeStep; a server that does
	// not step ranges may single-step instead (gdb then steps again).
	RangeStart, RangeEnd uint64
}

func (a *ResumeAction) appendVCont(dst []byte) []byte {
	switch a.Kind {
	case ResumeContinue, ResumeStep:
		letter := byte('c')
		if a.Kind == ResumeStep {
			letter = 's'
		}
		if a.Signal != SignalNone {
			dst = append(dst, letter-'a'+'A')
			dst = appendHexByte(dst, byte(a.Signal))
		} else {
			dst = append(dst, letter)
		}
	case ResumeStop:
		dst = append(dst, 't')
	case ResumeRangeStep:
		dst = append(dst, 'r')
		dst = AppendUint(dst, a.RangeStart)
		dst = append(dst, ',')
		dst = AppendUint(dst, a.RangeEnd)
	}
	if a.HasThread {
		dst = append(dst, ':')
		dst = a.Thread.AppendTo(dst)
	}
	return dst
}

// Resume is every request that lets the program run: "vCont;action[:thread]..."
// and the legacy "c [addr]", "C sig[;addr]", "s [addr]", "S sig[;addr]"
// (GDB manual, "Packets"), normalised into one list of actions. For each
// thread the first action that names it (or has no thread) applies;
// threads no action covers stay stopped. The reply is a stop reply, once
// the target stops.
type Resume struct {
	Actions []ResumeAction
	// Legacy says the request came as c, C, s or S: its one action
	// applies to the thread selected with Hc, which rsp does not know.
	// Call Resolve with that thread before acting on the request.
	Legacy bool
	// Addr is where to resume, when HasAddr is set (legacy requests only).
	Addr    uint64
	HasAddr bool

	inline [4]ResumeAction // Actions' storage when they fit: pass a Resume by pointer
}

// PacketName returns "vCont", or "c", "C", "s" or "S" for a legacy request.
func (r *Resume) PacketName() string {
	if !r.Legacy || len(r.Actions) != 1 {
		return "vCont"
	}
	a := &r.Actions[0]
	switch {
	case a.Kind == ResumeStep && a.Signal != SignalNone:
		return "S"
	case a.Kind == ResumeStep:
		return "s"
	case a.Signal != SignalNone:
		return "C"
	}
	return "c"
}

// AppendPayload implements Request.
func (r *Resume) AppendPayload(dst []byte) []byte {
	if !r.Legacy || len(r.Actions) != 1 {
		dst = append(dst, "vCont"...)
		for i := range r.Actions {
			dst = append(dst, ';')
			dst = r.Actions[i].appendVCont(dst)
		}
		return dst
	}
	a := &r.Actions[0]
	dst = append(dst, r.PacketName()...)
	if a.Signal != SignalNone {
		dst = appendHexByte(dst, byte(a.Signal))
		if r.HasAddr {
			dst = append(dst, ';')
		}
	}
	if r.HasAddr {
		dst = AppendUint(dst, r.Addr)
	}
	return dst
}

// Resolve turns a legacy request into explicit actions, given hc, the
// thread last selected with Hc. Legacy semantics, as gdbserver serves
// them: with a specific thread, that thread takes the action (and the
// signal) and every other thread continues; with "any" or "all", the
// action applies to every thread (of hc's process, for "pPID.-1").
// Resolve does nothing to a vCont request.
func (r *Resume) Resolve(hc ThreadID) {
	if !r.Legacy || len(r.Actions) != 1 {
		return
	}
	r.Legacy = false
	a := r.Actions[0]
	if hc.Tid > 0 {
		a.Thread, a.HasThread = hc, true
		r.Actions = append(r.Actions[:0], a, ResumeAction{Kind: ResumeContinue})
		return
	}
	// "Any" or "all" threads: of hc's process if it names one.
	if hc.Multiprocess && hc.Pid > 0 {
		a.Thread, a.HasThread = ProcessThread(hc.Pid, IDAll), true
	} else {
		a.Thread, a.HasThread = ThreadID{}, false
	}
	r.Actions = append(r.Actions[:0], a)
}

func (r *Resume) init() {
	r.Actions = r.inline[:0]
}

func parseLegacyResume(_ *Parser, name string, args []byte) (Request, error) {
	r := &Resume{Legacy: true}
	r.init()
	a := ResumeAction{Kind: ResumeContinue}
	if name == "s" || name == "S" {
		a.Kind = ResumeStep
	}
	if name == "C" || name == "S" {
		sig, rest, hasAddr := cutByte(args, ';')
		var ok bool
		if a.Signal, ok = parseSignal(sig); !ok {
			return nil, malformed(name, "bad signal")
		}
		if hasAddr && len(rest) == 0 {
			return nil, malformed(name, "empty address")
		}
		args = rest
	}
	if len(args) > 0 {
		var ok bool
		if r.Addr, ok = parseHex(args); !ok {
			return nil, malformed(name, "bad address")
		}
		r.HasAddr = true
	}
	r.Actions = append(r.Actions, a)
	return r, nil
}

func parseVCont(_ *Parser, name string, args []byte) (Request, error) {
	if len(args) < 2 || args[0] != ';' {
		return nil, malformed(name, "expected ;action")
	}
	r := &Resume{}
	r.init()
	for rest := args[1:]; ; {
		var item []byte
		var more bool
		item, rest, more = cutByte(rest, ';')
		a, ok := parseResumeAction(item)
		if !ok {
			return nil, malformed(name, "bad action "+quoteBytes(item))
		}
		r.Actions = append(r.Actions, a)
		if !more {
			break
		}
	}
	return r, nil
}

func parseResumeAction(b []byte) (ResumeAction, bool) {
	var a ResumeAction
	act, thread, hasThread := cutByte(b, ':')
	if hasThread {
		var ok bool
		if a.Thread, ok = parseThreadID(thread); !ok {
			return a, false
		}
		a.HasThread = true
	}
	if len(act) == 0 {
		return a, false
	}
	arg := act[1:]
	switch act[0] {
	case 'c', 's', 't':
		if len(arg) != 0 {
			return a, false
		}
		switch act[0] {
		case 'c':
			a.Kind = ResumeContinue
		case 's':
			a.Kind = ResumeStep
		default:
			a.Kind = ResumeStop
		}
	case 'C', 'S':
		a.Kind = ResumeContinue
		if act[0] == 'S' {
			a.Kind = ResumeStep
		}
		var ok bool
		if a.Signal, ok = parseSignal(arg); !ok {
			return a, false
		}
	case 'r':
		start, end, found := cutByte(arg, ',')
		if !found {
			return a, false
		}
		var ok1, ok2 bool
		a.RangeStart, ok1 = parseHex(start)
		a.RangeEnd, ok2 = parseHex(end)
		if !ok1 || !ok2 {
			return a, false
		}
		a.Kind = ResumeRangeStep
	default:
		return a, false
	}
	return a, true
}

// QueryResumeActions is "vCont?" (GDB manual, "Packets"): which vCont
// actions the server supports. Reply with AppendResumeActions.
type QueryResumeActions struct{}

// PacketName implements Request.
func (*QueryResumeActions) PacketName() string { return "vCont?" }

// AppendPayload implements Request.
func (*QueryResumeActions) AppendPayload(dst []byte) []byte { return append(dst, "vCont?"...) }

func parseResumeActionsQuery(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryResumeActions{})
}

// Interrupt is "vCtrlC" (GDB manual, "Packets"): stop the program, as the
// byte 0x03 does, but as a packet with a reply (OK), for non-stop mode.
type Interrupt struct{}

// PacketName implements Request.
func (*Interrupt) PacketName() string { return "vCtrlC" }

// AppendPayload implements Request.
func (*Interrupt) AppendPayload(dst []byte) []byte { return append(dst, "vCtrlC"...) }

func parseInterrupt(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &Interrupt{})
}

// Stopped is "vStopped" (GDB manual, "Remote Non-Stop"): in non-stop
// mode, gdb acknowledges the stop reply it was last sent (a %Stop
// notification, or the reply to '?' or to an earlier vStopped) and asks
// for the next one; "OK" says there is none left.
type Stopped struct{}

// PacketName implements Request.
func (*Stopped) PacketName() string { return "vStopped" }

// AppendPayload implements Request.
func (*Stopped) AppendPayload(dst []byte) []byte { return append(dst, "vStopped"...) }

func parseStopped(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &Stopped{})
}

// ThreadPurpose says which later requests an H packet selects a thread for.
type ThreadPurpose byte

// The purposes of H (GDB manual, "Packets").
const (
	// PurposeGeneral ("Hg") selects the thread of g, G, p, P, m, M, X...
	PurposeGeneral ThreadPurpose = 'g'
	// PurposeResume ("Hc") selects the thread of the legacy c, C, s, S.
	PurposeResume ThreadPurpose = 'c'
)

// String returns a name for the value, for logs and messages.
func (p ThreadPurpose) String() string {
	switch p {
	case PurposeGeneral:
		return "general"
	case PurposeResume:
		return "resume"
	}
	return "ThreadPurpose(?)"
}

// SelectThread is "H op thread" (GDB manual, "Packets"): "Hg thread" or
// "Hc thread". Reply OK, or an error if there is no such thread. Any
// other op is Unknown.
type SelectThread struct {
	For    ThreadPurpose
	Thread ThreadID
}

// PacketName implements Request.
func (*SelectThread) PacketName() string { return "H" }

// AppendPayload implements Request.
func (s *SelectThread) AppendPayload(dst []byte) []byte {
	dst = append(dst, 'H', byte(s.For))
	return s.Thread.AppendTo(dst)
}

func parseSelectThread(_ *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 {
		return nil, malformed(name, "expected op and thread")
	}
	op := ThreadPurpose(args[0])
	if op != PurposeGeneral && op != PurposeResume {
		return nil, nil
	}
	t, ok := parseThreadID(args[1:])
	if !ok {
		return nil, malformed(name, "bad thread id")
	}
	return &SelectThread{For: op, Thread: t}, nil
}

// QueryThreadAlive is "T thread" (GDB manual, "Packets"). Reply OK if the
// thread is alive, an error if not.
type QueryThreadAlive struct {
	Thread ThreadID
}

// PacketName implements Request.
func (*QueryThreadAlive) PacketName() string { return "T" }

// AppendPayload implements Request.
func (q *QueryThreadAlive) AppendPayload(dst []byte) []byte {
	dst = append(dst, 'T')
	return q.Thread.AppendTo(dst)
}

func parseThreadAlive(_ *Parser, name string, args []byte) (Request, error) {
	t, ok := parseThreadID(args)
	if !ok {
		return nil, malformed(name, "bad thread id")
	}
	return &QueryThreadAlive{Thread: t}, nil
}

// QueryCurrentThread is "qC" (GDB manual, "General Query Packets"). Reply
// with AppendCurrentThread.
type QueryCurrentThread struct{}

// PacketName implements Request.
func (*QueryCurrentThread) PacketName() string { return "qC" }

// AppendPayload implements Request.
func (*QueryCurrentThread) AppendPayload(dst []byte) []byte { return append(dst, "qC"...) }

func parseCurrentThread(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &QueryCurrentThread{})
}

// ListThreads is "qfThreadInfo" (the first part of the thread list) or
// "qsThreadInfo" (the next part) (GDB manual, "General Query Packets").
// Reply with AppendThreadList.
type ListThreads struct {
	Subsequent bool // qsThreadInfo
}

// PacketName returns "qfThreadInfo" or "qsThreadInfo".
func (l *ListThreads) PacketName() string {
	if l.Subsequent {
		return "qsThreadInfo"
	}
	return "qfThreadInfo"
}

// AppendPayload implements Request.
func (l *ListThreads) AppendPayload(dst []byte) []byte { return append(dst, l.PacketName()...) }

func parseListThreads(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &ListThreads{Subsequent: name == "qsThreadInfo"})
}

// QueryThreadExtraInfo is "qThreadExtraInfo,thread" (GDB manual, "General
// Query Packets"): a printable description of the thread. Reply with the
// text hex-encoded (AppendHexString).
type QueryThreadExtraInfo struct {
	Thread ThreadID
}

// PacketName implements Request.
func (*QueryThreadExtraInfo) PacketName() string { return "qThreadExtraInfo" }

// AppendPayload implements Request.
func (q *QueryThreadExtraInfo) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qThreadExtraInfo,"...)
	return q.Thread.AppendTo(dst)
}

func parseThreadExtraInfo(_ *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ',' {
		return nil, malformed(name, "expected ',' after the name")
	}
	t, ok := parseThreadID(args[1:])
	if !ok {
		return nil, malformed(name, "bad thread id")
	}
	return &QueryThreadExtraInfo{Thread: t}, nil
}

// parsePid parses a process id in hex.
func parsePid(b []byte) (int64, bool) {
	v, ok := parseHex(b)
	if !ok || v > maxID {
		return 0, false
	}
	return int64(v), true
}

// QueryAttached is "qAttached[:pid]" (GDB manual, "General Query
// Packets"): whether the server attached to the process (reply "1") or
// started it ("0"), which decides between detach and kill when gdb quits.
type QueryAttached struct {
	Pid    int64
	HasPid bool
}

// PacketName implements Request.
func (*QueryAttached) PacketName() string { return "qAttached" }

// AppendPayload implements Request.
func (q *QueryAttached) AppendPayload(dst []byte) []byte {
	dst = append(dst, "qAttached"...)
	if q.HasPid {
		dst = append(dst, ':')
		dst = AppendUint(dst, uint64(q.Pid))
	}
	return dst
}

func parseAttached(_ *Parser, name string, args []byte) (Request, error) {
	q := &QueryAttached{}
	if len(args) == 0 {
		return q, nil
	}
	if args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	var ok bool
	if q.Pid, ok = parsePid(args[1:]); !ok {
		return nil, malformed(name, "bad process id")
	}
	q.HasPid = true
	return q, nil
}

// PassSignals is "QPassSignals:sig;sig..." (GDB manual, "General Query
// Packets"): signals the server may deliver to the program without
// reporting a stop. Each packet replaces the previous list. Reply OK.
type PassSignals struct {
	Signals []GDBSignal
}

// PacketName implements Request.
func (*PassSignals) PacketName() string { return "QPassSignals" }

// AppendPayload implements Request.
func (s *PassSignals) AppendPayload(dst []byte) []byte {
	return appendSignalList(dst, "QPassSignals:", s.Signals)
}

// ProgramSignals is "QProgramSignals:sig;sig..." (GDB manual, "General
// Query Packets"): signals that may be delivered to the program at all;
// others are discarded when gdb resumes with them. Reply OK.
type ProgramSignals struct {
	Signals []GDBSignal
}

// PacketName implements Request.
func (*ProgramSignals) PacketName() string { return "QProgramSignals" }

// AppendPayload implements Request.
func (s *ProgramSignals) AppendPayload(dst []byte) []byte {
	return appendSignalList(dst, "QProgramSignals:", s.Signals)
}

func appendSignalList(dst []byte, prefix string, sigs []GDBSignal) []byte {
	dst = append(dst, prefix...)
	for i, s := range sigs {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = AppendUint(dst, uint64(s))
	}
	return dst
}

func parseSignalList(name string, args []byte) ([]GDBSignal, error) {
	if len(args) == 0 || args[0] != ':' {
		return nil, malformed(name, "expected ':' after the name")
	}
	var sigs []GDBSignal
	for rest := args[1:]; len(rest) > 0; {
		var item []byte
		item, rest, _ = cutByte(rest, ';')
		if len(item) == 0 {
			continue // gdb ends the list with ';'
		}
		s, ok := parseSignal(item)
		if !ok {
			return nil, malformed(name, "bad signal "+quoteBytes(item))
		}
		sigs = append(sigs, s)
	}
	return sigs, nil
}

func parsePassSignals(_ *Parser, name string, args []byte) (Request, error) {
	sigs, err := parseSignalList(name, args)
	if err != nil {
		return nil, err
	}
	return &PassSignals{Signals: sigs}, nil
}

func parseProgramSignals(_ *Parser, name string, args []byte) (Request, error) {
	sigs, err := parseSignalList(name, args)
	if err != nil {
		return nil, err
	}
	return &ProgramSignals{Signals: sigs}, nil
}

// Kill is "k" (GDB manual, "Packets"): kill the program. The manual leaves
// the reply unspecified and gdb does not wait for one; gdb 13 prefers
// vKill when the server supports multiprocess.
type Kill struct{}

// PacketName implements Request.
func (*Kill) PacketName() string { return "k" }

// AppendPayload implements Request.
func (*Kill) AppendPayload(dst []byte) []byte { return append(dst, 'k') }

func parseKill(_ *Parser, name string, args []byte) (Request, error) {
	return noArgs(name, args, &Kill{})
}

// KillProcess is "vKill;pid" (GDB manual, "Packets"). Reply OK.
type KillProcess struct {
	Pid int64
}

// PacketName implements Request.
func (*KillProcess) PacketName() string { return "vKill" }

// AppendPayload implements Request.
func (k *KillProcess) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vKill;"...)
	return AppendUint(dst, uint64(k.Pid))
}

func parseKillProcess(_ *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ';' {
		return nil, malformed(name, "expected ;pid")
	}
	pid, ok := parsePid(args[1:])
	if !ok {
		return nil, malformed(name, "bad process id")
	}
	return &KillProcess{Pid: pid}, nil
}

// Detach is "D" or "D;pid" (GDB manual, "Packets"): the client lets go of
// the process (of every process, without pid). Reply OK.
type Detach struct {
	Pid    int64
	HasPid bool
}

// PacketName implements Request.
func (*Detach) PacketName() string { return "D" }

// AppendPayload implements Request.
func (d *Detach) AppendPayload(dst []byte) []byte {
	dst = append(dst, 'D')
	if d.HasPid {
		dst = append(dst, ';')
		dst = AppendUint(dst, uint64(d.Pid))
	}
	return dst
}

func parseDetach(_ *Parser, name string, args []byte) (Request, error) {
	d := &Detach{}
	if len(args) == 0 {
		return d, nil
	}
	if args[0] != ';' {
		return nil, malformed(name, "expected ;pid")
	}
	var ok bool
	if d.Pid, ok = parsePid(args[1:]); !ok {
		return nil, malformed(name, "bad process id")
	}
	d.HasPid = true
	return d, nil
}

// Attach is "vAttach;pid" (GDB manual, "Packets"), in extended mode. The
// reply is a stop reply for the stopped process.
type Attach struct {
	Pid int64
}

// PacketName implements Request.
func (*Attach) PacketName() string { return "vAttach" }

// AppendPayload implements Request.
func (a *Attach) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vAttach;"...)
	return AppendUint(dst, uint64(a.Pid))
}

func parseAttach(_ *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ';' {
		return nil, malformed(name, "expected ;pid")
	}
	pid, ok := parsePid(args[1:])
	if !ok {
		return nil, malformed(name, "bad process id")
	}
	return &Attach{Pid: pid}, nil
}

// Run is "vRun;filename[;argument]..." (GDB manual, "Packets"), in
// extended mode: start a program, every field hex-encoded. An empty
// Program means the one the server was started with. The reply is a stop
// reply for the new process, stopped at its first instruction.
type Run struct {
	Program string
	Args    []string // without argv[0]
}

// PacketName implements Request.
func (*Run) PacketName() string { return "vRun" }

// AppendPayload implements Request.
func (r *Run) AppendPayload(dst []byte) []byte {
	dst = append(dst, "vRun;"...)
	dst = AppendHexString(dst, r.Program)
	for _, a := range r.Args {
		dst = append(dst, ';')
		dst = AppendHexString(dst, a)
	}
	return dst
}

func parseRun(p *Parser, name string, args []byte) (Request, error) {
	if len(args) == 0 || args[0] != ';' {
		return nil, malformed(name, "expected ;filename")
	}
	r := &Run{}
	field, rest, more := cutByte(args[1:], ';')
	var ok bool
	if r.Program, ok = p.arena.hexString(field); !ok {
		return nil, malformed(name, "bad hex in file name")
	}
	for more {
		field, rest, more = cutByte(rest, ';')
		arg, ok := p.arena.hexString(field)
		if !ok {
			return nil, malformed(name, "bad hex in argument")
		}
		r.Args = append(r.Args, arg)
	}
	return r, nil
}
