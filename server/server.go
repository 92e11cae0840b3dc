package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/arbiter"
	"gdbserverx/internal/comm"
	"gdbserverx/rsp"
)

// messageKind names what a message to the core loop carries.
type messageKind int

const (
	msgAccept        messageKind = iota // a listener accepted conn
	msgAcceptFailed                     // a listener's accept failed (err); it tries again
	msgAcceptResumed                    // a listener accepts again after failures
	msgCanceled                         // the context of Run ended
)

// message is what the other goroutines send the core loop: a connection
// a listener accepted, a failed accept, the end of Run's context.
type message struct {
	kind messageKind
	err  error
	conn comm.Conn
	lc   *ListenerConfig
}

// Server serves RSP clients. Its state is owned by the core loop, on the
// core thread (coreThread); everything else talks to it through
// messages. Its methods are the core loop (this file), the routing of
// stops and the running of the process (routing.go), the process's
// start and end (run.go), and the glue to the debugpoints (points.go);
// the packets are served by the clients' sessions (session.go) and the
// process adapter (process.go, data.go, xfer.go, reginfo.go).
type Server struct {
	// Immutable after New.
	cfg  Config
	msgs chan message

	// Owned by the core loop.
	log     *logger
	events  eventLog
	clients clientList // by id
	nextID  int
	// procs are the processes debugged, in the order they came: the
	// program, and the children of forks that are followed (fork.go).
	procs procTable
	// nonStop: the targets are in non-stop mode (nonstop.go).
	nonStop   bool
	everConn  bool // a client has connected (for --once)
	exit      bool // leave the core loop (monitor exit, --once, ...)
	defLaunch LaunchSpec
	defPolicy arbiter.Policy
	// offer is what a client is offered: the configuration's part, and
	// the target's of the process, or of the last one (features.go).
	offer features
	// wake rouses the core loop from poll; pollFds and pollClients are
	// its scratch.
	wake        *wake
	pollFds     []unix.PollFd
	pollClients []*client
	// closing is closed when the listeners close: acceptors stop waiting
	// to retry. acceptors counts the accept goroutines.
	closing   chan struct{}
	acceptors sync.WaitGroup

	// collecting is set while collect's garbage collection runs (in
	// collector, which shutdown waits for); heap is its scratch: the
	// heap live at the last collection, and in use.
	collecting atomic.Bool
	collector  sync.WaitGroup
	heap       [2]metrics.Sample

	// runs hands Run's context to the core thread; ended returns what
	// the core loop returned.
	runs  chan context.Context
	ended chan error

	// recent holds the last notices, for `monitor events`.
	recent []recentNotice
	// How the last process ended, for '?' and resumes after it.
	lastExit    *rsp.StopReply
	lastExitPid int
}

// New checks the configuration and starts the program or attaches to the
// process the configuration names, so that the process exists before the
// server says it listens (as gdbserver does).
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("server: no backend")
	}
	if len(cfg.Listeners) == 0 {
		return nil, errors.New("server: no listener")
	}
	if cfg.Program == nil && cfg.AttachPID == 0 && !cfg.Multi {
		return nil, errors.New("server: no program, no process to attach to, and not --multi")
	}
	var pol arbiter.Policy
	if cfg.Policy != "" {
		var err error
		if pol, err = arbiter.ParsePolicy(cfg.Policy); err != nil {
			return nil, err
		}
	}
	w, err := newWake()
	if err != nil {
		return nil, err
	}
	s := newServer(cfg, w)
	s.defPolicy = pol
	started := make(chan error)
	go s.coreThread(started)
	if err := <-started; err != nil {
		w.close()
		return nil, err
	}
	return s, nil
}

// newServer makes a Server of a checked configuration, with its wake-up
// descriptor; the core loop is not started.
func newServer(cfg Config, w *wake) *Server {
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	log := &logger{w: cfg.Log, debug: cfg.Debug}
	s := &Server{cfg: cfg, log: log, events: eventLog{w: cfg.EventLog, log: log}, msgs: make(chan message, 64), nextID: 1,
		defLaunch: cfg.DefaultLaunch, wake: w, offer: features{serverFeaturesOf(cfg), assumedTarget},
		runs: make(chan context.Context), ended: make(chan error, 1)}
	s.heap = [2]metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	return s
}

// coreThread is the core loop's goroutine. It locks its OS thread for
// good before anything else: the backend makes it the tracer of every
// process (ptrace binds a tracee to the thread that attached it), and
// from then on every packet, ptrace call and reply is made on it. It
// starts the program or attaches to the process the configuration names,
// reports that on started, and serves once Run gives it a context.
func (s *Server) coreThread(started chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread ends with its tracees
	if runtime.GOMAXPROCS(0) < 2 {
		// The core thread keeps a P while it waits (pollFds): the other
		// goroutines need another.
		runtime.GOMAXPROCS(2)
	}
	err := s.cfg.Backend.Open()
	if err == nil {
		switch {
		case s.cfg.Program != nil:
			err = s.launch(*s.cfg.Program)
		case s.cfg.AttachPID != 0:
			err = s.attach(s.cfg.AttachPID)
		}
	}
	started <- err
	if err != nil {
		return
	}
	s.ended <- s.loop(<-s.runs)
}

// Run serves clients until the server has nothing left to do (the process
// is gone and not --multi, --once after the first client, monitor exit) or
// ctx ends. The process, if any is left, is killed when the server started
// it and detached when it attached to it. The serving happens on the core
// thread (see coreThread); Run waits for it.
//
// When ctx ends, the server says why on its log, with context.Cause(ctx)
// (cmd gives the signal that ended it), and Run returns ctx.Err().
func (s *Server) Run(ctx context.Context) error {
	s.runs <- ctx
	return <-s.ended
}

// loop is the core loop.
func (s *Server) loop(ctx context.Context) error {
	// Every goroutine that rings the wake-up descriptor has ended before
	// it is closed: the acceptors and the collector (shutdown waits for
	// them) and the watcher of ctx (below).
	defer s.wake.close()
	s.closing = make(chan struct{})
	for i := range s.cfg.Listeners {
		lc := &s.cfg.Listeners[i]
		s.acceptors.Add(1)
		go s.accept(lc)
	}
	stopped := make(chan struct{})
	watcher := make(chan struct{})
	defer func() { <-watcher }()
	defer close(stopped)
	go func() {
		defer close(watcher)
		select {
		case <-ctx.Done():
			select {
			case s.msgs <- message{kind: msgCanceled}:
				s.wake.ring()
			case <-stopped:
			}
		case <-stopped:
		}
	}()
	defer s.shutdown()
	for !s.exit {
		if s.drain() {
			s.log.printf("Exiting (%v)", context.Cause(ctx))
			return ctx.Err()
		}
		if s.exit {
			break
		}
		if s.serveHeld() {
			s.sweep()
			continue
		}
		s.poll()
		s.sweep()
	}
	return nil
}

// drain serves every message and target event that is waiting, without
// blocking, settling after each. It reports a canceled context.
func (s *Server) drain() (canceled bool) {
	for {
		select {
		case m := <-s.msgs:
			if m.kind == msgCanceled {
				return true
			}
			s.handleMessage(m)
		default:
			if !s.takeEvent() {
				s.settle()
				return false
			}
		}
		s.settle()
		s.sweep()
		if s.exit {
			return false
		}
	}
}

// takeEvent serves the next event of a process, if one is ready.
func (s *Server) takeEvent() bool {
	for _, p := range s.procs {
		if ev, ok := p.t.NextEvent(); ok {
			s.onEvent(p, ev)
			return true
		}
	}
	return false
}

// poll waits for input on any connection or a ring of the wake-up fd, and
// serves what arrived. A client whose input buffer is full (it is paused)
// or that has closed its side is not read: poll then reports only its
// hang-up or error.
func (s *Server) poll() {
	fds := s.pollFds[:0]
	fds = append(fds, unix.PollFd{Fd: int32(s.wake.fd), Events: unix.POLLIN})
	fds = append(fds, unix.PollFd{Fd: int32(s.cfg.Backend.EventFd()), Events: unix.POLLIN})
	const first = 2 // the clients' entries start here
	cs := s.pollClients[:0]
	for _, c := range s.clients {
		if c.state == clientGone || c.io.rfd < 0 {
			continue
		}
		var events int16 = unix.POLLIN
		if c.io.eof || c.io.full() {
			events = 0
		}
		if c.io.waiting() {
			if c.io.wfd == c.io.rfd {
				events |= unix.POLLOUT
			} else {
				// stdio: the output is another descriptor.
				fds = append(fds, unix.PollFd{Fd: int32(c.io.wfd), Events: unix.POLLOUT})
				cs = append(cs, c)
			}
		}
		fds = append(fds, unix.PollFd{Fd: int32(c.io.rfd), Events: events})
		cs = append(cs, c)
	}
	s.pollFds, s.pollClients = fds, cs
	defer clear(cs) // no gone client kept alive by the scratch
	if _, err := pollFds(fds); err != nil {
		// EINTR: a signal's handler ran on this thread; usually
		// SIGCHLD's, for a tracee that stopped (the kernel prefers the
		// tracer's thread for it), so the event fd is readable now.
		s.cfg.Backend.Pump()
		return
	}
	if fds[0].Revents != 0 {
		s.wake.clear()
	}
	if fds[1].Revents != 0 {
		s.cfg.Backend.Pump()
	}
	for i, c := range cs {
		fd := fds[first+i]
		if fd.Revents == 0 || c.state == clientGone {
			continue
		}
		if fd.Revents&unix.POLLOUT != 0 {
			c.io.flush() // paused input is served again by serveHeld
		}
		switch {
		case int(fd.Fd) != c.io.rfd || fd.Revents&^unix.POLLOUT == 0:
		case fd.Events&unix.POLLIN == 0:
			// Not read, and hung up or failed: nobody is there to
			// answer any more.
			s.disconnect(c, errHangup)
		default:
			s.read(c)
		}
	}
}

// read takes what a client sent and serves its packets. At the end of its
// stream, packets it sent before and that wait (it was paused) are still
// served, and it is disconnected after them.
func (s *Server) read(c *client) {
	err := c.io.fill()
	s.serve(c)
	switch {
	case err == nil || c.state == clientGone:
	case errors.Is(err, errClosed) && c.io.held:
		c.io.eof = true
	case errors.Is(err, errClosed):
		s.disconnect(c, nil)
	default:
		s.disconnect(c, err)
	}
}

// serve serves the whole frames a client's input holds, until it is
// paused.
func (s *Server) serve(c *client) {
	c.io.frames(c, func(ev frameEvent) bool {
		switch {
		case ev.interrupt:
			s.interruptFrom(c)
		case ev.err != nil:
			c.malformed(ev.err)
		default:
			c.handle(ev.req)
		}
		s.settle()
		return c.state != clientGone
	})
}

// serveHeld serves the input held back from paused clients that may be
// served again: their output has been written, or they hold the process
// again. It reports whether it served any.
func (s *Server) serveHeld() bool {
	served := false
	for i := 0; i < len(s.clients); i++ {
		c := s.clients[i]
		if c.state == clientGone || !c.io.held || c.paused() {
			continue
		}
		served = true
		s.serve(c)
		if c.io.eof && !c.io.held && c.state != clientGone {
			s.disconnect(c, nil)
		}
	}
	return served
}

// sweep forgets the clients that are gone, and has the garbage
// collector reclaim what they used.
func (s *Server) sweep() {
	forgot := false
	s.clients = slices.DeleteFunc(s.clients, func(c *client) bool {
		if c.state != clientGone {
			return false
		}
		c.io.ep.Release()
		forgot = true
		return true
	})
	if forgot {
		s.collect()
	}
}

// collect has the garbage collector run now, in the background, when a
// client is forgotten and collectGarbage bytes or more of the heap are
// garbage: what the connections used (their buffers, the documents and
// files they were sent) is garbage once they are gone. Left to the
// collector's pacing, it would grow the heap to the collector's minimum
// goal (4 MiB) before the first collection, and the server's RSS with it
// as connections come and go; a collection after every connection costs
// more CPU than the garbage is worth, hence the threshold (figures from
// TestSoak: bench/RESULTS.md, "server"). The collection runs off the core
// loop, one at a time.
func (s *Server) collect() {
	if s.collecting.Load() {
		return
	}
	metrics.Read(s.heap[:])
	live, inUse := s.heap[0].Value, s.heap[1].Value
	if live.Kind() != metrics.KindUint64 || inUse.Kind() != metrics.KindUint64 || inUse.Uint64() < live.Uint64()+collectGarbage {
		return
	}
	s.collecting.Store(true)
	s.collector.Go(func() {
		runtime.GC()
		s.collecting.Store(false)
	})
}

// accept runs in its own goroutine per listener. A failed accept (out of
// descriptors: EMFILE, ENFILE; out of memory) is tried again after a wait
// that doubles from acceptRetryMin to acceptRetryMax: the connection
// waits in the kernel's backlog and is served once a descriptor frees.
// Only Close stops a listener.
func (s *Server) accept(lc *ListenerConfig) {
	defer s.acceptors.Done()
	var wait time.Duration
	for {
		conn, err := lc.Listener.Accept()
		switch {
		case err == nil:
			if wait > 0 {
				wait = 0
				s.send(message{kind: msgAcceptResumed, lc: lc})
			}
			s.send(message{kind: msgAccept, conn: conn, lc: lc})
			continue
		case errors.Is(err, comm.ErrClosed):
			return
		}
		if wait == 0 {
			wait = acceptRetryMin
			s.send(message{kind: msgAcceptFailed, lc: lc, err: err})
		} else {
			wait = min(2*wait, acceptRetryMax)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.closing:
			t.Stop()
		}
	}
}

// send gives the core loop a message and rouses it.
func (s *Server) send(m message) {
	s.msgs <- m
	s.wake.ring()
}

func (s *Server) handleMessage(m message) {
	switch m.kind {
	case msgAccept:
		s.connect(m.conn, m.lc)
	case msgAcceptFailed:
		s.log.printf("Cannot accept a connection (%v); trying again until it works", m.err)
	case msgAcceptResumed:
		s.log.printf("Accepting connections again")
	}
}

// connect admits a new client, or refuses it at once with a message when
// the server is full: a client is never left waiting in a backlog.
func (s *Server) connect(conn comm.Conn, lc *ListenerConfig) {
	if !admit(conn, lc, s.log, &s.events) {
		return
	}
	if s.clients.live() >= s.cfg.MaxClients {
		s.log.printf("Refused a connection from %s: %d client(s) already connected (--clients %d)", conn.Peer(), s.clients.live(), s.cfg.MaxClients)
		go refuse(conn, fmt.Sprintf("gdbserverx: refused: %d client(s) already connected (--clients %d)", s.clients.live(), s.cfg.MaxClients))
		return
	}
	c := newClient(s, s.nextID, conn, lc)
	// A client that may not kill the program says it attached, so that
	// gdb detaches rather than kills when its user quits.
	c.joined = len(s.procs) > 0 && s.clients.live() > 0 || !c.role.may(rightEnd)
	s.nextID++
	s.clients = append(s.clients, c)
	s.everConn = true
	if conn.Peer() != "stdio" {
		host, port, ok := strings.Cut(conn.Peer(), ":")
		if ok && !strings.Contains(port, ":") {
			s.log.printf("Remote debugging from host %s, port %s", host, port)
		} else {
			s.log.printf("Remote debugging from %s", conn.Peer())
		}
	}
	if s.procs.anyRunning() {
		// A client that connects to a running process stops it and
		// holds it; the running clients never notice.
		c.setState(clientWaiting)
		s.procs.interruptAll()
		return
	}
	c.setState(clientStopped)
}

// disconnect releases everything a client held. The last client leaving
// ends the process as gdbserver would (killed when the server started it,
// detached when it attached) only with --once; otherwise the process waits,
// stopped, for the next client, as gdbserver's does.
func (s *Server) disconnect(c *client, err error) {
	if c.state == clientGone {
		return
	}
	if err != nil {
		s.log.printf("Client #%d (%s) connection failed: %v", c.id, c.peer, err)
	} else {
		s.log.printf("Client #%d (%s) disconnected", c.id, c.peer)
	}
	s.release(c)
	if s.clients.live() == 0 {
		if s.cfg.Once {
			s.exit = true
			return
		}
		if len(s.procs) == 0 && !s.cfg.Multi {
			s.exit = true
			return
		}
		if len(s.procs) > 0 && !s.cfg.Multi {
			s.log.printf("Remote side has terminated connection.  GDBserver will reopen the connection.")
		}
	}
}

// release drops a client's hold on the process and its debugpoints, and
// closes its files. The client is gone for the core loop from here on.
func (s *Server) release(c *client) {
	if c.state == clientGone {
		return
	}
	c.setState(clientGone)
	c.io.flush() // what the socket takes of the last replies
	c.conn.Close()
	c.files.closeAll()
	for _, p := range s.procs {
		// Its slots go to others' points now (with notices); a running
		// process is brought to the new plan at once.
		s.tell(p, p.dropOwner(c))
		if s.clients.live() == 0 && p.running {
			// Nobody is left: the program runs on free of every point,
			// as with gdbserver, until a client connects.
			p.orphaned = true
			p.interrupt()
			continue
		}
		s.replanIfRunning(p)
	}
	s.forgetClient(c)
	nonStop{s}.forget(c)
}

// shutdown ends what is left: the process (killed if launched, detached
// if attached, as gdbserver does when it exits) and every connection. It
// waits for the goroutines it started, so that none outlives Run.
func (s *Server) shutdown() {
	for _, p := range s.procs {
		p.abandon()
	}
	s.procs = nil
	for _, c := range s.clients {
		if c.state != clientGone {
			c.setState(clientGone)
			c.conn.Close()
			c.files.closeAll()
		}
	}
	s.sweep()
	close(s.closing)
	for _, lc := range s.cfg.Listeners {
		lc.Listener.Close()
	}
	acceptorsDone := make(chan struct{})
	go func() {
		s.acceptors.Wait()
		close(acceptorsDone)
	}()
	for waiting := true; waiting; {
		select {
		case m := <-s.msgs:
			if m.kind == msgAccept {
				m.conn.Close()
			}
		case <-acceptorsDone:
			waiting = false
		}
	}
	for len(s.msgs) > 0 {
		if m := <-s.msgs; m.kind == msgAccept {
			m.conn.Close()
		}
	}
	s.collector.Wait()
}

// refuse answers a client over the limit, or a peer who may not connect,
// at once: its first packet gets an error reply with the reason as text,
// which gdb prints ("Remote failure reply: E.gdbserverx: refused: ..."),
// then the connection closes. A client that sends nothing within a
// second is simply closed. The reply is followed by the end of the
// stream, not by a close: gdb acknowledges the reply before it prints
// it, and that write must not fail (on a unix socket it would, at once:
// "Broken pipe", and the reason is lost).
func refuse(conn comm.Conn, msg string) {
	defer conn.Close()
	d, _ := conn.(interface{ SetDeadline(time.Time) error })
	if d != nil {
		d.SetDeadline(time.Now().Add(time.Second))
	}
	rd := rsp.NewReader(conn, rsp.ReaderOptions{MaxPayload: PacketSize})
	for {
		f, err := rd.ReadFrame()
		if err != nil {
			return
		}
		if f.Kind == rsp.FramePacket {
			break
		}
	}
	conn.Write(append([]byte{'+'}, rsp.AppendFrame(nil, []byte("E."+msg))...))
	if cw, ok := conn.(interface{ CloseWrite() error }); ok && d != nil && cw.CloseWrite() == nil {
		d.SetDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, conn) // until the client closes, or the deadline
	}
}

// pollWait bounds a wait of the core loop in poll(2); see pollFds.
const pollWait = time.Second

// pollFds waits in ppoll(2) without telling the Go scheduler (a raw
// system call): the core thread keeps its P while it waits, so that
// after the wait it runs on at once. Through the scheduler's syscall
// path, a wait longer than the runtime monitor's 20 us (gdb's every round
// trip) let the monitor take the P back and wake other threads to place
// it, and the core thread then had to get one back: more server CPU and
// more context switches per stepi (bench/RESULTS.md, "server"). The
// goroutines that need a P meanwhile (acceptors, the garbage collector's
// workers) have the other: New makes GOMAXPROCS at least 2. The garbage
// collector stops the world with a preemption signal, which interrupts
// the wait (EINTR); the timeout bounds the wait where that signal is off
// (GODEBUG=asyncpreemptoff=1).
func pollFds(fds []unix.PollFd) (int, error) {
	ts := unix.NsecToTimespec(int64(pollWait))
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
