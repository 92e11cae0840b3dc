// Package server is the multi-client core of gdbserverx: it accepts RSP
// clients, serves their packets against one target process, shares the
// hardware debug-register slots among them, and tells each client, in
// notices it can see, what happened to its debugpoints.
//
// # Who owns what
//
// One core loop owns every piece of mutable state, on one goroutine locked
// to its OS thread for good (Server.coreThread), which the backend makes
// the ptrace tracer of every process: a packet is read, framed
// (rsp.Endpoint), parsed, served with the ptrace calls it needs and
// answered on that thread, with no hand-off to another. Within it, each
// piece of state has one owner type, and its methods live in the files
// named here:
//
//   - Server: the core loop and the connections (server.go: poll(2) on
//     the sockets, the backend's event fd and a wake-up eventfd; accept,
//     connect, disconnect, shutdown), the routing of stops and the run of
//     the process (routing.go), the process's start and end: launch,
//     attach, k, D, vRun, vAttach (run.go), and the glue to the
//     debugpoints: the notices of each commit and the plan given to the
//     target at a resume (points.go). What a client is offered is
//     computed once from the configuration and the target (features.go).
//   - client: one connection (its I/O: conn.go), its state in the all-stop
//     machine, and its session: the replies and notices it is sent
//     (client.go) and its packets (session.go: client.handle, the one
//     type switch over rsp's packet types, and the handlers of the
//     session's own state; points.go: Z and z; vfile.go: its host files;
//     monitor.go: `monitor` commands; syscalls.go: the system calls it
//     catches; osdata.go: `info os`, from the backend).
//   - process: the process adapter: the target and its optional
//     capabilities, checked once at wiring; its run state, software
//     breakpoints and pending stops; the target calls the server makes
//     (process.go), and the packets that only read or write the target:
//     registers and memory (data.go), qXfer objects (xfer.go; a stop's
//     siginfo written: siginfo.go), lldb's qRegisterInfo and qProcessInfo
//     (reginfo.go), thread-local variables (tls.go). Its parts with state
//     of their own are small types: following forks (fork.go, forkState),
//     catching system calls (syscalls.go, syscallCatching), and the
//     breakpoints' conditions and commands, judged at each hit with
//     agentexpr (conditions.go, pointAgent).
//   - debugpoints.Set (server/internal/debugpoints), one per process: the
//     hardware breakpoints and watchpoints of every client, the arbiter
//     that shares the slots, the z packets not applied yet, the plan the
//     target is given, the judgement of a stop's hits. It knows no client,
//     packet or target call, and has table tests of its own.
//
// The few other goroutines (one acceptor per listener, one that watches
// Run's context, the garbage collection after a client has gone) send
// the core loop messages and ring its eventfd; nothing else reads or
// writes its state. The software-watchpoint engine's notes (swwatch.Note:
// a fallback it took) are queued, bounded, in the process while it runs,
// and written to --event-log at each event (events.go).
//
// # From a Z2 packet to the debug registers, and back
//
// A client sends Z2,404028,4 (gdb's `watch counter`):
//
//  1. server.go, Server.read and Server.serve: the bytes become a frame
//     (rsp.Endpoint, acknowledged) and an *rsp.InsertBreakpoint.
//  2. session.go, client.handle: the packet goes to client.insertPoint
//     (points.go), which makes the hwbp.Request and asks the process's
//     debugpoints.Set.
//  3. internal/debugpoints/debugpoints.go, Set.Insert: hwbp cuts the
//     request into pieces, the arbiter admits them at the client's
//     priority and commits; the commit's Changes come back (this point
//     installed, or emulated for want of a slot; another client's point
//     evicted for it). Server.tell (points.go) words each as a notice
//     (notice.go) and gives it to its owner (client.notify, client.go);
//     the client gets OK.
//  4. The client resumes (session.go, client.resumeRequest); once no
//     client holds the process, Server.settle (routing.go) calls
//     Server.resumeProcess, and Server.prepareDebugRegisters (points.go)
//     has the Set plan the resume (internal/debugpoints/plan.go,
//     Set.Plan: the slots' hwbp.Image of DR0-DR3 and DR7, the emulated
//     set, syscall-exit stops); process.apply (process.go) gives the
//     image to the target (target.HardwareDebug.SetDebugRegisters:
//     target/linux writes each thread's registers just before it runs)
//     and the process resumes. A kernel refusal (ENOSPC) comes back from
//     Resume: Set.NoSpace plans with one slot less, and the evicted
//     point's notice goes out as in 3.
//  5. The program writes counter; the thread stops with SIGTRAP and its
//     DR6. Server.onEvent and Server.threadStop (routing.go) give the DR6
//     to Set.DebugStop (internal/debugpoints/hits.go: the fired slots, the
//     debugpoints holding them, hwbp's judgement of each hit), and the
//     hits become pending stops for their owners (clientList.hitNotes);
//     Server.settle tells each its stop reply, T05watch:404028;...
//     (Server.tellStop), after the notices that waited for it.
//
// # Limits
//
// What one client can make the server keep is bounded (limits.go, and
// README "Limits and failure behaviour"): its input, its unwritten
// replies, its packets and notices, its host files, its debugpoints
// (debugpoints.MaxPoints, MaxBytes); a client that has gone is forgotten
// at once.
//
// # Roles and host files
//
// What a client may do is its listener's role (roles.go; README,
// "Security"): every request type is classified once, by what it does
// (requestRules, held by a test to rsp's sealed list of request types),
// and the session's handle asks gate before it serves one. A refused
// request gets E0d and the reason where gdb shows it; the detach of the
// program by a client that may not let it go leaves it instead; an
// observer's resume starts no thread another client leaves stopped
// (mayStart, in process.combinedActions). Unix-socket peers are admitted
// by user (admit, in connect). vFile opens only the files gdb needs (the
// target's ProcessFiles) and those beneath a few directories, resolved
// without leaving them (confine.go, for hostFiles).
//
// # All-stop with several clients
//
// Each client is either running (it resumed and waits for a stop reply) or
// stopped (it holds the target). The process runs only while no client
// holds it. A stop is told only to the clients it concerns (DESIGN.md,
// "Several clients, one target"); the others stay running and never notice
// the pause. One stop of the process may hold several reasons (a
// watchpoint hit in one thread, the completed step of another): a client
// is told one per resume and the others, once each, at its next resumes,
// without the process running; but a completed step is told only if the
// client steps that thread again, and is dropped when it continues it
// (routing.go, nextStopFor).
//
// # Non-stop mode with several clients
//
// A client that sends QNonStop:1 is in the state clientNonStop
// (nonstop.go): the target's threads then stop and run one by one
// (target.NonStop), and the all-stop rule becomes a rule per thread,
// kept in each process's threadRun table (process.ns, nil in all-stop):
// a thread runs only while no client holds it. An all-stop client told a
// stop holds every thread (nonStop.worldHeld: the world is stopped for
// it, stopWorld); a non-stop client holds the threads whose stops it was
// told (a %Stop notification, queued in client.stops and drained by its
// vStopped) or that it stopped with vCont;t or vCtrlC, and lets each go
// with its vCont for that thread (nonStop.resumeRequest). A thread's
// event is told to the clients it concerns, each in its own mode (the
// stop reply of tellStop, or a notification, notifyStops); a non-stop
// client is sent no notification for threads an all-stop client's stop
// holds, since a thread it is told stopped is one it holds. After each
// event and each request, nonStop.settle runs every thread that nobody
// holds (runThreads) and stops the world when an all-stop client wants
// it. Breakpoints and debug registers are applied at once while threads
// run (applyNow). Notices reach a non-stop client only with its monitor
// replies: gdb reads no O packet asynchronously in non-stop mode.
//
// # Forks
//
// A fork or vfork of a followed process (fork.go, forkState) makes the
// child one more process of the server's table (procTable, procs.go),
// known only to the clients told of the fork, which see it as pPID.TID;
// a child nobody debugs is let go with its parent's breakpoints removed.
// Until a client is told of the fork, the child stays out of its thread
// lists (listed, forkUntold).
//
// # Range steps
//
// A vCont;r step (rangestep.go) is stepped again by the server while the
// thread's pc stays in its range: the completed step is told to nobody
// (threadStop asks stepsOn), and the client's resume, still a step, runs
// again, in all-stop and non-stop mode alike.
//
// # Translation
//
// rsp knows packets and target knows processes; this package translates
// between them, one function per translation: GDB and Linux signal numbers
// (signals.go), wire thread ids and tids (client.threadID,
// process.tidOf), the register table and target.xml (tdesc.go; the table
// is the target's, with the AVX, AVX-512 and PKU features the CPU and
// kernel give the process), the same table for lldb (qRegisterInfo,
// reginfo.go), Z types and hwbp requests (points.go), File-I/O flags and
// errno (hostio.go).
//
// What the operating system and the program's files say about the
// process (its shared libraries, its symbols, its ids, each thread's
// name and core, the root of its files, its auxiliary vector and
// executable, its mappings) comes from the target's capabilities (target/facts.go),
// which target/linux reads from /proc, the dynamic linker's link maps
// and the ELF file. The server only formats them for the wire: the
// library list in the GDB manual's "Library List Format for SVR4
// Targets" (svr4.go), "0x404028 <counter>" in notices (symbols.go),
// qProcessInfo (reginfo.go), the thread list (xfer.go), vFile:setfs
// (vfile.go), qMemoryRegionInfo (lldb.go). It reads no /proc file and no
// ELF file itself, so that another target changes nothing here (lldb's
// qHostInfo asks uname(2) about the server's host).
//
// # Clients that read the protocol differently
//
// gdb and lldb (and Delve, written against lldb-server) read a few
// answers differently. A client that sends QListThreadsInStopReply or
// QThreadSuffixSupported speaks lldb's dialect (lldb.go): it gets the
// library list without main-lm, target.xml in lldb's form, lldb's keys in
// stop replies, X09 after k, and lldb's own queries; its state is an
// lldbDialect of its own, and that code is functions of the client and
// its process rather than methods of theirs. A client that sent
// no-resumed+ gets N when its resume names only threads that have exited
// (threadexit.go). Signals every client passes (QPassSignals) and those
// of --pass-signals are delivered without a stop (passsig.go,
// target.SignalPasser). Every stop reply gives the thread's core, as
// gdbserver's does.
package server
