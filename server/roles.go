package server

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// Roles (README, "Security"). Several people and tools share one program,
// so what a client may do depends on the listener it came through: an
// observer reads and watches, a debugger also changes the program, an
// owner may also end it, start another and stop the server. Each request
// is classified once, by what it does (a right), in requestRules; a role
// is the set of rights its clients have. The check is made before the
// request is served (the session's handle calls gate), so that no
// handler serves a request its client may not make.

// Role is what the clients of a listener may do. The zero value is
// RoleOwner: gdbserver's client, the main COMM's default.
type Role uint8

// The roles, from the most to the least allowed.
const (
	// RoleOwner may do everything: kill the program, start or attach
	// to another, stop and reconfigure the server, write host files.
	RoleOwner Role = iota
	// RoleDebugger is a client that debugs (it writes memory and
	// registers, sends signals) but cannot end or replace the program
	// or the server: no k/vKill, vRun, vAttach, monitor exit. Its
	// detach (D) is a leave: the program stays with the server.
	RoleDebugger
	// RoleObserver reads memory, registers and threads and sets
	// breakpoints and watchpoints of its own at its priority, but never
	// changes the program: no writes, no signals, and its resumes
	// start no thread another client leaves stopped.
	RoleObserver
)

// roleNames spell the roles as the command line and monitor clients do.
var roleNames = [...]string{RoleOwner: "owner", RoleDebugger: "debugger", RoleObserver: "observer"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// article is "an" or "a", for messages: "an observer may not ...".
func (r Role) article() string {
	if r == RoleObserver || r == RoleOwner {
		return "an"
	}
	return "a"
}

// ParseRole reads a role's name: owner, debugger or observer.
func ParseRole(s string) (Role, error) {
	for r, name := range roleNames {
		if s == name {
			return Role(r), nil
		}
	}
	return 0, fmt.Errorf("role %q: want owner, debugger or observer", s)
}

// right is what a request does, as far as roles are concerned.
type right uint8

const (
	// rightRead: read the program (memory, registers, threads, the
	// documents of qXfer), the server's state, host files gdb needs;
	// and settings that concern the client alone (ack mode, thread
	// selection, the environment of its own vRun).
	rightRead right = iota
	// rightPoints: insert and remove breakpoints and watchpoints of
	// its own, at its own priority (Z, z).
	rightPoints
	// rightRun: resume and interrupt, combined with the other
	// clients' requests (DESIGN.md, "Several clients, one target").
	rightRun
	// rightRunOthers: start threads another running client leaves
	// stopped (its resume does not name them). Without it, a client's
	// resume covers only the threads others run too; alone with others
	// of its kind, it runs the program as anyone would.
	rightRunOthers
	// rightWrite: change the program's memory or registers (M, X, G,
	// P, a resume at an address, qXfer:siginfo:write).
	rightWrite
	// rightSignal: send the program a signal (C, S, vCont;C, vCont;S).
	rightSignal
	// rightRelease: let the program go: D detaches it from the server.
	// A client without it that detaches leaves the program instead.
	rightRelease
	// rightEnd: kill the program (k, vKill).
	rightEnd
	// rightStart: start a program or attach to one (vRun, vAttach).
	rightStart
	// rightHostWrite: create, write or remove host files (vFile:open
	// for writing, vFile:pwrite, vFile:unlink).
	rightHostWrite
	// rightServer: stop or reconfigure the server (monitor exit,
	// monitor set debug, monitor set remote-debug).
	rightServer
	numRights
)

// rightInfo describes a right for messages and the README.
type rightInfo struct {
	name string
	// may completes "an observer may not ..." in a refusal.
	may string
	// also names the requests whose content gives them this right,
	// for the README (the others are listed from requestRules).
	also string
}

var rightInfos = [numRights]rightInfo{
	rightRead:      {"read", "read the program", ""},
	rightPoints:    {"points", "set breakpoints and watchpoints", ""},
	rightRun:       {"run", "resume the program", "`c`, `s`, `vCont` without a signal"},
	rightRunOthers: {"run-others", "resume threads another client leaves stopped", "a resume's threads that no other running client resumes"},
	rightWrite:     {"write", "write the program's memory or registers", "`c ADDR`, `s ADDR`"},
	rightSignal:    {"signal", "send signals to the program", "`C`, `S`, `vCont;C`, `vCont;S`"},
	rightRelease:   {"release", "let the program go (without this, `D` leaves it to the server and the others)", ""},
	rightEnd:       {"end", "kill the program", ""},
	rightStart:     {"start", "start a program or attach to one", ""},
	rightHostWrite: {"host-write", "write or remove host files", "`vFile:open` for writing"},
	rightServer:    {"server", "stop or reconfigure the server", ""},
}

// roleRights are the rights of each role.
var roleRights = [...]uint32{
	RoleOwner:    1<<numRights - 1,
	RoleDebugger: rights(rightRead, rightPoints, rightRun, rightRunOthers, rightWrite, rightSignal),
	RoleObserver: rights(rightRead, rightPoints, rightRun),
}

func rights(rs ...right) uint32 {
	var m uint32
	for _, r := range rs {
		m |= 1 << r
	}
	return m
}

// may says whether the role has right r.
func (role Role) may(r right) bool {
	return int(role) < len(roleRights) && roleRights[role]&(1<<r) != 0
}

// least is the least role that has right r, for messages.
func least(r right) Role {
	for _, role := range []Role{RoleObserver, RoleDebugger, RoleOwner} {
		if role.may(r) {
			return role
		}
	}
	return RoleOwner
}

// telling is how a refusal reaches the person behind the client. gdb
// shows console output (O) only while it waits for a stop reply or a
// qRcmd reply (DESIGN.md, "What gdb actually does on the wire"), and the
// text of an "E.text" reply only for some packets; measured with gdb 13.
type telling uint8

const (
	// tellNotice: E0d, which gdb shows as a failure of its own ("Cannot
	// access memory at address", "Can't kill process"); the reason is a
	// notice, shown at the client's next resume, and in monitor events.
	tellNotice telling = iota
	// tellConsole: the reason as console output, then E0d: gdb waits
	// for a stop reply (a resume) or a qRcmd reply and shows both.
	tellConsole
	// tellText: "E.reason", which gdb prints ("Could not write register
	// "rax"; remote failure reply 'E.gdbserverx: refused: ...'").
	tellText
	// tellFile: the File-I/O error F-1,13 (EACCES) of a vFile packet;
	// gdb prints "Permission denied"; the reason is a notice.
	tellFile
)

// tellings say, for the README, what each telling sends and what gdb 13
// shows of it.
var tellings = [...]struct{ reply, shows string }{
	tellNotice:  {"`E0d`", "its own words (`Cannot access memory at address 0x...`, `Can't kill process`); the reason comes as a notice at the client's next resume or monitor command"},
	tellConsole: {"the reason as console output, then `E0d`", "the reason, then `warning: Remote failure reply: E0d` (the program is stopped) or `Protocol error with Rcmd`"},
	tellText:    {"`E.` and the reason", "`Could not write register \"rax\"; remote failure reply 'E.gdbserverx: refused: ...'`"},
	tellFile:    {"`F-1,d` (EACCES)", "`Remote I/O error: Permission denied`; the reason comes as a notice at the client's next resume or monitor command"},
}

// packetNames name a request type's packets for the README.
func packetNames(typ reflect.Type) string {
	switch typ {
	case typeOf[*rsp.Resume]():
		return "`c`, `s`, `vCont`"
	case typeOf[*rsp.WriteMemory]():
		return "`M`, `X`"
	case typeOf[*rsp.ReadXfer]():
		return "`qXfer:...:read`"
	case typeOf[*rsp.WriteXfer]():
		return "`qXfer:siginfo:write`"
	case typeOf[*rsp.ListThreads]():
		return "`qfThreadInfo`, `qsThreadInfo`"
	case typeOf[*rsp.Unknown]():
		return "unknown packets"
	}
	return "`" + reflect.New(typ.Elem()).Interface().(rsp.Request).PacketName() + "`"
}

// requestRule classifies one request type.
type requestRule struct {
	right right
	// refine, when set, gives the right of a request from its content
	// (a resume with a signal, a monitor command, an open for writing).
	refine func(rsp.Request) right
	tell   telling
}

// requestRules classifies every request type of rsp (TestEveryRequestClassified
// holds it to rsp's sealed list: a new packet type cannot be served
// unclassified). A type missing here is served to owners only.
var requestRules = map[reflect.Type]requestRule{
	// The connection, and settings that concern the client alone.
	typeOf[*rsp.QuerySupported]():          {right: rightRead},
	typeOf[*rsp.StartNoAckMode]():          {right: rightRead},
	typeOf[*rsp.MustReplyEmpty]():          {right: rightRead},
	typeOf[*rsp.EnableExtendedMode]():      {right: rightRead},
	typeOf[*rsp.SelectThread]():            {right: rightRead},
	typeOf[*rsp.PassSignals]():             {right: rightRead},
	typeOf[*rsp.ProgramSignals]():          {right: rightRead},
	typeOf[*rsp.SetNonStop]():              {right: rightRead},
	typeOf[*rsp.SetThreadEvents]():         {right: rightRead},
	typeOf[*rsp.SetCatchSyscalls]():        {right: rightRead},
	typeOf[*rsp.SymbolsReady]():            {right: rightRead},
	typeOf[*rsp.SymbolValue]():             {right: rightRead},
	typeOf[*rsp.Unknown]():                 {right: rightRead}, // answered "not supported"
	typeOf[*rsp.SetDisableRandomization](): {right: rightRead}, // for its own vRun, which needs rightStart
	typeOf[*rsp.SetStartupWithShell]():     {right: rightRead},
	typeOf[*rsp.SetEnvironment]():          {right: rightRead},
	typeOf[*rsp.UnsetEnvironment]():        {right: rightRead},
	typeOf[*rsp.ResetEnvironment]():        {right: rightRead},
	typeOf[*rsp.SetWorkingDir]():           {right: rightRead},
	// Reading the program and its state.
	typeOf[*rsp.QueryHaltReason](): {right: rightRead},
	typeOf[*rsp.Stopped]():         {right: rightRead},
	// lldb's queries (lldb.go) read the program and the host's facts.
	typeOf[*rsp.QueryHostInfo]():          {right: rightRead},
	typeOf[*rsp.QueryShlibInfoAddr]():     {right: rightRead},
	typeOf[*rsp.ListThreadsInStopReply](): {right: rightRead},
	typeOf[*rsp.EnableThreadSuffix]():     {right: rightRead},
	typeOf[*rsp.QueryThreadStopInfo]():    {right: rightRead},
	typeOf[*rsp.QueryThreadsInfo]():       {right: rightRead},
	typeOf[*rsp.QueryMemoryRegion]():      {right: rightRead},
	typeOf[*rsp.QueryWatchpointSupport](): {right: rightRead},
	typeOf[*rsp.QueryCurrentThread]():     {right: rightRead},
	typeOf[*rsp.ListThreads]():            {right: rightRead},
	typeOf[*rsp.QueryThreadAlive]():       {right: rightRead},
	typeOf[*rsp.QueryThreadExtraInfo]():   {right: rightRead},
	typeOf[*rsp.QueryAttached]():          {right: rightRead},
	typeOf[*rsp.ReadXfer]():               {right: rightRead},
	typeOf[*rsp.ReadRegisters]():          {right: rightRead},
	typeOf[*rsp.ReadRegister]():           {right: rightRead},
	typeOf[*rsp.QueryRegisterInfo]():      {right: rightRead},
	typeOf[*rsp.QueryProcessInfo]():       {right: rightRead},
	typeOf[*rsp.ReadMemory]():             {right: rightRead},
	typeOf[*rsp.QueryResumeActions]():     {right: rightRead},
	typeOf[*rsp.QueryOffsets]():           {right: rightRead},
	typeOf[*rsp.QueryTLSAddr]():           {right: rightRead},
	typeOf[*rsp.QueryTraceStatus]():       {right: rightRead},
	// Host files gdb reads (confined: confine.go), and writes.
	typeOf[*rsp.FileSetFS]():    {right: rightRead},
	typeOf[*rsp.FileOpen]():     {right: rightRead, refine: openRight, tell: tellFile},
	typeOf[*rsp.FileRead]():     {right: rightRead},
	typeOf[*rsp.FileClose]():    {right: rightRead},
	typeOf[*rsp.FileStat]():     {right: rightRead},
	typeOf[*rsp.FileReadlink](): {right: rightRead},
	typeOf[*rsp.FileWrite]():    {right: rightHostWrite, tell: tellFile},
	typeOf[*rsp.FileUnlink]():   {right: rightHostWrite, tell: tellFile},
	// Breakpoints and watchpoints of the client's own.
	typeOf[*rsp.InsertBreakpoint](): {right: rightPoints},
	typeOf[*rsp.RemoveBreakpoint](): {right: rightPoints},
	// Run control.
	typeOf[*rsp.Resume]():    {right: rightRun, refine: resumeRight, tell: tellConsole},
	typeOf[*rsp.Interrupt](): {right: rightRun},
	// Changing the program.
	typeOf[*rsp.WriteMemory]():    {right: rightWrite},
	typeOf[*rsp.WriteRegisters](): {right: rightWrite, tell: tellText},
	typeOf[*rsp.WriteRegister]():  {right: rightWrite, tell: tellText},
	typeOf[*rsp.WriteXfer]():      {right: rightWrite},
	// Ending, replacing and leaving the program; the server.
	typeOf[*rsp.Detach]():         {right: rightRelease},
	typeOf[*rsp.Kill]():           {right: rightEnd},
	typeOf[*rsp.KillProcess]():    {right: rightEnd},
	typeOf[*rsp.Run]():            {right: rightStart},
	typeOf[*rsp.Attach]():         {right: rightStart},
	typeOf[*rsp.MonitorCommand](): {right: rightRead, refine: monitorRight, tell: tellConsole},
}

func typeOf[T rsp.Request]() reflect.Type { return reflect.TypeFor[T]() }

// monitorRights classifies every monitor command
// (TestEveryMonitorCommandClassified). priority, policy and pin change
// only the client's own points, within its listener's limits.
var monitorRights = map[string]right{
	"help":             rightRead,
	"exit":             rightServer,
	"set debug":        rightServer,
	"set remote-debug": rightServer,
	"priority":         rightPoints,
	"policy":           rightPoints,
	"pin":              rightPoints,
	"slots":            rightRead,
	"clients":          rightRead,
	"events":           rightRead,
	"stats":            rightRead,
}

// resumeRight: a resume with a signal sends it; one at an address
// writes the program counter.
func resumeRight(req rsp.Request) right {
	r := req.(*rsp.Resume)
	if r.HasAddr {
		return rightWrite
	}
	for _, a := range r.Actions {
		if a.Signal != rsp.SignalNone {
			return rightSignal
		}
	}
	return rightRun
}

// openRight: an open for anything but reading may change a host file.
func openRight(req rsp.Request) right {
	if req.(*rsp.FileOpen).Flags&^fioRDONLY != 0 {
		return rightHostWrite
	}
	return rightRead
}

func monitorRight(req rsp.Request) right {
	cmd, _ := findMonitor(req.(*rsp.MonitorCommand).Fields())
	if cmd == nil {
		return rightRead // answered "Unknown monitor command"
	}
	if r, ok := monitorRights[cmd.name]; ok {
		return r
	}
	return rightServer
}

// ruleOf classifies a request; a type requestRules lacks needs the
// owner's every right (it cannot happen: TestEveryRequestClassified).
func ruleOf(req rsp.Request) (requestRule, right) {
	rule, ok := requestRules[reflect.TypeOf(req)]
	if !ok {
		return requestRule{right: rightServer}, rightServer
	}
	if rule.refine != nil {
		return rule, rule.refine(req)
	}
	return rule, rule.right
}

// gate checks a request against its client's role before it is served.
// It reports true when it answered the request itself: a refusal, or a
// detach of the program from a client that may not let it go, which
// leaves it instead. An owner's requests pass at once.
func gate(c *client, req rsp.Request) bool {
	if c.role == RoleOwner {
		return false
	}
	rule, need := ruleOf(req)
	if c.role.may(need) {
		return false
	}
	if d, ok := req.(*rsp.Detach); ok {
		prog := program(c.s.procs)
		if prog == nil || d.HasPid && int(d.Pid) != prog.pid {
			return false // fork children, the client's own (fork.go): detached as anyone's
		}
		leave(c, prog)
		return true
	}
	refuseRequest(c, req, need, rule.tell)
	return true
}

// refusal words a refused request: which role forbids what, and which
// role would do.
func refusal(role Role, need right, packet string) string {
	return fmt.Sprintf("gdbserverx: refused: %s %s may not %s (%s; needs role %s)",
		role.article(), role, rightInfos[need].may, packet, least(need))
}

// refuseRequest answers a request c's role forbids, tells the person
// behind c why where gdb shows it (see telling), logs it and records it
// in --event-log and monitor events.
func refuseRequest(c *client, req rsp.Request, need right, how telling) {
	s := c.s
	packet := req.PacketName()
	text := refusal(c.role, need, packet)
	s.log.printf("Client #%d (%s, %s): %s", c.id, c.peer, c.role, strings.TrimPrefix(text, "gdbserverx: "))
	s.events.refusal(refusalRecord{Refused: packet, Client: c.id, Peer: c.peer, Role: c.role.String(), Needs: least(need).String(), Text: text})
	s.recent = appendRecent(s.recent, c.id, text)
	switch how {
	case tellConsole:
		c.flushNotices()
		c.output(text + "\n")
		c.replyError(rsp.CodeAccess)
	case tellText:
		c.reply(rsp.AppendErrorMessage(c.scratch(), text))
	case tellFile:
		c.reply(rsp.AppendFileError(c.scratch(), fioEACCES))
		noticeOnce(c, text)
	default:
		c.replyError(rsp.CodeAccess)
		noticeOnce(c, text)
	}
}

// noticeOnce queues a refusal's notice unless the same one waits already:
// gdb asks again what was refused (it probes X with an empty write before
// the write itself).
func noticeOnce(c *client, text string) {
	if slices.Contains(c.notices, text) {
		return
	}
	c.notify(text)
}

// appendRecent keeps a notice for `monitor events`, the last
// maxRecentNotices.
func appendRecent(recent []recentNotice, client int, text string) []recentNotice {
	recent = append(recent, recentNotice{at: time.Now(), client: client, text: text})
	if len(recent) > maxRecentNotices {
		recent = append(recent[:0], recent[len(recent)-maxRecentNotices:]...)
	}
	return recent
}

// leave serves D from a client whose role may not let the program go:
// the client leaves it (and lets go the fork children only it knows), as
// any client's D does while others debug the program, and the program
// stays with the server. When nobody else debugs it, it runs on, traced,
// free of every point, as when the last client disconnects while it
// runs, until a client connects (settle: resumeOrphan).
func leave(c *client, prog *process) {
	s := c.s
	for _, p := range s.procs {
		if p.fk.knows(c) {
			s.tell(p, p.dropOwner(c))
		}
	}
	s.forgetClient(c)
	c.setState(clientIdle)
	c.replyOK()
	if !s.clients.anyDebugging() {
		s.log.printf("Client #%d (%s) left process %d; it runs on until a client connects", c.id, c.role, prog.pid)
		for _, p := range s.procs {
			p.orphaned = true
		}
	}
}

// program is the process every client debugs (the one started or
// attached to, not a fork child: fork.go), or nil.
func program(ps procTable) *process {
	for _, p := range ps {
		if p.fk.knownBy == nil {
			return p
		}
	}
	return nil
}

// anyDebugging says whether a client debugs the processes: one that has
// left them (idle: it detached while others debugged them, or by leave)
// does not, and orphaned processes run on while only such clients
// remain.
func (cs clientList) anyDebugging() bool {
	for _, c := range cs {
		if c.state != clientIdle && c.state != clientGone {
			return true
		}
	}
	return false
}

// mayStart says whether c's resume may start thread tid of p, among the
// running clients that debug p: a client without rightRunOthers starts
// no thread that a running client of another kind leaves stopped (it
// does not name it in its resume). Such a client's resume still runs
// the program when only clients like it are running. In all-stop, the
// program runs only when no client holds it, so a resume while another
// client holds it just waits.
func mayStart(running []*client, c *client, p *process, tid target.Tid) bool {
	if c.role.may(rightRunOthers) {
		return true
	}
	others := false
	for _, o := range running {
		if o.resume == nil || !o.role.may(rightRunOthers) {
			continue
		}
		if a := o.actionFor(p, tid); a != nil && a.Kind != rsp.ResumeStop {
			return true // it runs anyway; c may step it
		}
		others = true
	}
	return !others
}

// admit checks who connects through a unix socket: the peer's user
// (SO_PEERCRED) must be one the listener allows (AllowUIDs; the server's
// own user by default). A peer refused is told why, as a client over
// --clients is, and the refusal logged.
func admit(conn comm.Conn, lc *ListenerConfig, log *logger, events *eventLog) bool {
	cred, ok := comm.PeerCred(conn)
	if !ok {
		return true
	}
	allowed := lc.AllowUIDs
	if allowed == nil {
		allowed = []int{os.Getuid()}
	}
	if slices.Contains(allowed, cred.UID) {
		return true
	}
	list := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(allowed)), ","), "[]")
	text := fmt.Sprintf("gdbserverx: refused: user %d may not connect to this socket (allowed users: %s; --allow-uid)", cred.UID, list)
	log.printf("Refused a connection from %s: process %d runs as user %d, which may not connect (allowed users: %s; --allow-uid)", conn.Peer(), cred.PID, cred.UID, list)
	uid := cred.UID
	events.refusal(refusalRecord{Refused: "connection", Peer: conn.Peer(), UID: &uid, PID: cred.PID, Text: text})
	go refuse(conn, text)
	return false
}

// refusalRecord is one line of --event-log for a refusal: a request a
// client's role forbids ("refused" is its packet), a host file outside
// the confinement (and its "path"), or a connection ("connection") from
// a user who may not connect.
type refusalRecord struct {
	Time    string `json:"time"`
	Refused string `json:"refused"`
	Client  int    `json:"client,omitempty"`
	Peer    string `json:"peer,omitempty"`
	Role    string `json:"role,omitempty"`
	Needs   string `json:"needs,omitempty"`
	Path    string `json:"path,omitempty"`
	UID     *int   `json:"uid,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Text    string `json:"text"`
}

// refusal writes a refusal to --event-log.
func (e *eventLog) refusal(r refusalRecord) {
	if e.w == nil {
		return
	}
	r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	e.write(r)
}
