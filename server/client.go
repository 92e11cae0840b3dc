package server

import (
	"fmt"
	"os"
	"strings"

	"gdbserverx/arbiter"
	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/target"
)

// clientState is where a client stands in the all-stop model.
type clientState int

const (
	// clientStopped: the client holds the process (or there is none)
	// and is served packet by packet.
	clientStopped clientState = iota
	// clientRunning: the client resumed and waits for a stop reply;
	// the process runs when every client is running.
	clientRunning
	// clientWaiting: the client connected while the process ran; it has
	// asked the process to stop and its packets wait until it has.
	clientWaiting
	// clientIdle: connected, but not debugging the process (it
	// detached while others debug it): it holds nothing, is told no stop.
	clientIdle
	// clientNonStop: in non-stop mode (QNonStop:1, nonstop.go): served
	// at once whatever runs; it holds the threads it was told stopped
	// and is told stops by notification.
	clientNonStop
	// clientGone: disconnected; forgotten at the core loop's next sweep.
	clientGone
)

func (s clientState) String() string {
	switch s {
	case clientStopped:
		return "stopped"
	case clientRunning:
		return "running"
	case clientWaiting:
		return "waiting"
	case clientIdle:
		return "idle"
	case clientNonStop:
		return "non-stop"
	case clientGone:
		return "gone"
	}
	return fmt.Sprintf("clientState(%d)", int(s))
}

// client is one connected debugger: its connection, where it stands in the
// all-stop state machine, and the session it negotiated. Its methods are
// the session: the replies and notices it is sent (here), and its packets
// (session.go, points.go), served on the core loop; the process adapter
// (data.go, xfer.go, reginfo.go) answers the packets that read or write
// the target. Owned by the core loop.
type client struct {
	s    *Server
	id   int
	peer string
	lc   *ListenerConfig
	conn comm.Conn
	io   *connIO

	state clientState
	buf   []byte // reply scratch, reused

	// Negotiated in qSupported, !, QStartNoAckMode.
	clientFeatures
	extended bool
	noAck    bool

	// Thread selection (Hg, Hc).
	gThread, cThread rsp.ThreadID

	// Signals: pass[g] says GDB signal g goes to the program without a
	// stop (QPassSignals); program, when set, lists the signals the
	// client lets through on resume (QProgramSignals).
	pass    map[rsp.GDBSignal]bool
	program map[rsp.GDBSignal]bool

	// What the client asked for while running: its resume request, and
	// whether it sent Ctrl-C.
	resume      *rsp.Resume
	interrupted bool
	// ctrlC is a Ctrl-C that came while the client held the process; it
	// takes effect at its next resume.
	ctrlC bool

	// Packets that arrived while clientWaiting, served once it holds the
	// process.
	queued []rsp.Request

	// osdata is the `info os` table it reads (osdata.go).
	osdata osdataDocs

	// catch is the system calls it catches (QCatchSyscalls,
	// syscalls.go).
	catch catchSet

	// Host I/O: the files it opened with vFile:open.
	files hostFiles
	// threadsDoc is the qXfer:threads document being read (xfer.go),
	// made anew at offset 0.
	threadsDoc []byte

	// Non-stop mode (nonstop.go): the stop replies not yet acknowledged
	// with vStopped, and whether the first is out (as a notification or
	// a reply).
	stops     [][]byte
	notifying bool

	// Settings for vRun, from Q packets (extended mode).
	launch LaunchSpec

	// Output (notices) waiting for a moment the client can show it, at
	// most maxQueuedNotices, and how many older ones were dropped.
	notices        []string
	droppedNotices int

	// lldb is set when the client speaks lldb's dialect (lldb.go).
	lldb *lldbDialect

	// joined says the client came to a process another client already
	// debugged: qAttached then answers 1, so that gdb detaches rather
	// than kills when its user quits.
	joined bool

	// Sharing the debug registers: the client's priority (within its
	// listener's ceiling), the policy for its debugpoints without a slot,
	// and whether they are pinned.
	priority int
	policy   arbiter.Policy
	pinned   bool

	// role is what the client may do: its listener's (roles.go).
	role Role
}

func newClient(s *Server, id int, conn comm.Conn, lc *ListenerConfig) *client {
	c := &client{
		s:        s,
		id:       id,
		peer:     conn.Peer(),
		lc:       lc,
		conn:     conn,
		files:    hostFiles{open: map[int]*hostFile{}, next: 1},
		launch:   s.defLaunch,
		priority: lc.Priority,
		policy:   s.defPolicy,
		role:     lc.Role,
	}
	c.io = newConnIO(conn)
	if s.cfg.RemoteDebug {
		c.io.debug = s.log.printf
	}
	return c
}

// setState moves the client through its state machine, logging the
// transition with --debug.
func (c *client) setState(st clientState) {
	if c.state != st {
		c.s.log.debugf("client #%d: %v -> %v", c.id, c.state, st)
	}
	c.state = st
}

// scratch returns the client's reply buffer, emptied.
func (c *client) scratch() []byte { return c.buf[:0] }

// reply frames payload and sends it: written at once as far as the
// socket takes it, the rest when it has room. payload is usually built in
// scratch().
func (c *client) reply(payload []byte) {
	c.buf = payload[:0]
	if c.state == clientGone {
		return
	}
	if c.io.debug != nil {
		c.io.debug("client #%d: putpkt (\"%s\");", c.id, printable(payload))
	}
	c.io.ep.Send(payload)
	c.io.flush()
	if len(c.io.ep.Output()) > maxUnwritten {
		// Backpressure keeps a client's own replies far below this:
		// output it did not ask for (notices, stop replies) piles up,
		// and it reads nothing. Drop it rather than keep it all.
		c.s.log.printf("Client #%d (%s) does not read its replies (%d bytes wait); disconnecting it", c.id, c.peer, len(c.io.ep.Output()))
		c.s.release(c)
	}
}

// paused says the core loop must serve no more of the client's packets
// for now (backpressure, see pauseBytes): its replies are not written
// yet, or it has sent maxQueuedRequests packets while it does not hold
// the process. Its input then waits, at most maxInput of it.
func (c *client) paused() bool {
	return c.io.backlogged() ||
		(c.state == clientRunning || c.state == clientWaiting) && len(c.queued) >= maxQueuedRequests
}

// replyOK, replyEmpty and replyError are the common replies.
func (c *client) replyOK()                      { c.reply(rsp.AppendOK(c.scratch())) }
func (c *client) replyEmpty()                   { c.reply(c.scratch()) }
func (c *client) replyError(code rsp.ErrorCode) { c.reply(rsp.AppendError(c.scratch(), code)) }

// output sends console output (an O packet). Only valid while the client
// waits for a stop reply or a monitor reply: at any other time gdb takes
// it for the reply to its packet.
func (c *client) output(text string) {
	c.reply(rsp.AppendConsoleOutput(c.scratch(), text))
}

// droppedNotice words the notice that stands for n notices dropped (see
// maxQueuedNotices).
func droppedNotice(n int) string {
	return fmt.Sprintf("gdbserverx: %d earlier notices dropped (more than %d waited); monitor events lists the last %d", n, maxQueuedNotices, maxRecentNotices)
}

// setEnv and unsetEnv edit the environment vRun starts programs with
// (QEnvironmentHexEncoded, QEnvironmentUnset), starting from the server's.
func (c *client) setEnv(name, value string) {
	c.unsetEnv(name)
	c.launch.Env = append(c.launch.Env, name+"="+value)
}

func (c *client) unsetEnv(name string) {
	if c.launch.Env == nil {
		c.launch.Env = os.Environ()
	}
	out := c.launch.Env[:0]
	for _, kv := range c.launch.Env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	c.launch.Env = out
}

// notify gives a client a notice: at once when it waits for a stop reply
// (gdb shows console output then), else at its next resume, before any
// stop reply (DESIGN.md, "Notices"). A non-stop client waits for no stop
// reply, and gdb reads any packet that comes while it waits for a reply
// as that reply: its notices are sent with its next monitor command's
// reply (gdb prints console output there), or when it goes back to
// all-stop and resumes.
func (c *client) notify(text string) {
	c.notices = append(c.notices, text)
	if n := len(c.notices) - maxQueuedNotices; n > 0 {
		c.droppedNotices += n
		c.notices = append(c.notices[:0], c.notices[n:]...)
	}
	if c.state == clientRunning {
		c.flushNotices()
	}
}

// flushNotices sends the queued notices; call it only while the client
// waits for a stop reply or a monitor reply.
func (c *client) flushNotices() {
	if c.droppedNotices > 0 {
		c.output(droppedNotice(c.droppedNotices) + "\n")
		c.droppedNotices = 0
	}
	for _, n := range c.notices {
		c.output(n + "\n")
	}
	c.notices = c.notices[:0]
}

// actionFor returns the client's resume action for a thread: the first
// action naming it, or one without a thread; nil when none applies.
func (c *client) actionFor(p *process, tid target.Tid) *rsp.ResumeAction {
	if c.resume == nil {
		return nil
	}
	return actionIn(c.resume, p, tid)
}

// steps says whether the client asked to single-step the thread.
func (c *client) steps(p *process, tid target.Tid) bool {
	if c.state == clientNonStop {
		th := p.ns[tid]
		return th != nil && th.stepper == c
	}
	a := c.actionFor(p, tid)
	return a != nil && (a.Kind == rsp.ResumeStep || a.Kind == rsp.ResumeRangeStep)
}

// threadID is the wire id of a thread, in the form the client negotiated.
func (c *client) threadID(p *process, tid target.Tid) rsp.ThreadID {
	if c.multiprocess {
		return rsp.ProcessThread(int64(p.pid), int64(tid))
	}
	return rsp.SingleThread(int64(tid))
}

// tid resolves a wire thread id to a thread of its process, if there is
// one (process.tidOf).
func (c *client) tid(id rsp.ThreadID) (target.Tid, bool) {
	p := c.procOf(id)
	if p == nil {
		return 0, false
	}
	return p.tidOf(id)
}

// process returns the client's current process (cur), or answers E03
// (no process) and returns nil: for the packets only a process can
// serve.
func (c *client) process() *process {
	p := c.cur()
	if p == nil {
		c.replyError(rsp.CodeNoProcess)
	}
	return p
}

// clientList is the server's clients, in id order: clients are appended
// as they come and removed in place (Server.sweep); a client that has
// gone stays, clientGone, until the sweep.
type clientList []*client

// live counts connected clients.
func (cs clientList) live() int {
	n := 0
	for _, c := range cs {
		if c.state != clientGone {
			n++
		}
	}
	return n
}

// connected returns the connected clients, by id.
func (cs clientList) connected() []*client {
	out := make([]*client, 0, len(cs))
	for _, c := range cs {
		if c.state != clientGone {
			out = append(out, c)
		}
	}
	return out
}

// inState lists the clients in a state, by id.
func (cs clientList) inState(st clientState) []*client {
	var out []*client
	for _, c := range cs {
		if c.state == st {
			out = append(out, c)
		}
	}
	return out
}

// anyIn says whether some client is in a state, without allocating.
func (cs clientList) anyIn(st clientState) bool {
	for _, c := range cs {
		if c.state == st {
			return true
		}
	}
	return false
}

// byID finds a connected client.
func (cs clientList) byID(id int) *client {
	for _, c := range cs {
		if c.id == id && c.state != clientGone {
			return c
		}
	}
	return nil
}

// hitNotes makes the stop notes of debugpoint hits, by client: several
// hits of one client are all kept, the first its stop reply, the others
// for its next resumes. Hits of clients that are gone are dropped.
func (cs clientList) hitNotes(hits []debugpoints.Hit) map[*client][]stopNote {
	var out map[*client][]stopNote
	for _, h := range hits {
		c := cs.byID(h.Client)
		if c == nil {
			continue
		}
		if out == nil {
			out = map[*client][]stopNote{}
		}
		out[c] = append(out[c], stopNote{reason: watchReason(h.Kind), addr: h.Addr})
	}
	return out
}
