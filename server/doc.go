// Package server is the multi-client core of gdbserverx: it accepts RSP
// clients, serves their packets against one target process, shares the
// hardware debug-register slots among them through the arbiter, and tells
// each client, in notices it can see, what happened to its debugpoints.
//
// # Threads, and who owns what
//
// One core loop (Server.loop) owns every piece of shared state: the
// clients and their run/stop states, the process, software breakpoints
// and their owners, the arbiter and the queued notices. It runs on one
// goroutine locked to its OS thread for good (coreThread), which the
// backend makes the ptrace tracer of every process: a packet is read,
// framed (rsp.Endpoint), parsed, served with the ptrace calls it needs
// and answered on that thread, with no hand-off to another. The loop
// waits in poll(2) on the clients' sockets (for input, and for room when
// a reply waits: conn.go), the backend's event fd (readable when a tracee
// changed state: target/linux's SIGCHLD eventfd) and a wake-up eventfd
// for the few other goroutines: one acceptor per listener (it retries
// failed accepts), one that watches Run's context, and the garbage
// collection that runs when a client has gone. Those send the core loop
// messages; nothing else reads or writes its state. The
// software-watchpoint engine's notes (swwatch.Note: a fallback it took)
// are queued, bounded, in the process while it runs, and written to
// --event-log at each event (events.go).
//
// # Limits
//
// What one client can make the server keep is bounded (limits.go, and
// README "Limits and failure behaviour"): its input, its unwritten
// replies, its packets and notices, its host files; a client that has
// gone is forgotten at once.
//
// # Roles and host files
//
// What a client may do is its listener's role (roles.go; README,
// "Security"): every request type is classified once, by what it does
// (requestRules, held by a test to rsp's sealed list of request types),
// and receive asks gate before it serves one. A refused request gets
// E0d and the reason where gdb shows it; the detach of a client that may
// not let the program go leaves it instead; an observer's resume starts
// no thread another client leaves stopped (mayStart, in combinedActions).
// Unix-socket peers are admitted by user (admit). vFile opens only the
// files gdb needs and those beneath a few directories, resolved without
// leaving them (confine.go).
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
// (stop.go, nextStopFor).
//
// # Translation
//
// rsp knows packets and target knows processes; this package translates
// between them, one function per translation: GDB and Linux signal numbers
// (signals.go), wire thread ids and tids, the register table and target.xml
// (tdesc.go; the table is the target's, with the AVX, AVX-512 and PKU
// features the CPU and kernel give the process), the same table for lldb
// (qRegisterInfo, reginfo.go), File-I/O flags and errno (hostio.go).
package server
