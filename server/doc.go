// Package server is the multi-client core of gdbserverx: it accepts RSP
// clients, serves their packets against one target process, shares the
// hardware debug-register slots among them through the arbiter, and tells
// each client, in notices it can see, what happened to its debugpoints.
//
// # Goroutines and who owns what
//
// One core loop (Server.run) owns every piece of shared state: the clients
// and their run/stop states, the process, software breakpoints and their
// owners, the arbiter and the queued notices. Nothing else reads or writes
// them; other goroutines send the core loop messages.
//
// The core loop also reads every connection itself (poll(2), then framing,
// acks and parsing into rsp values; conn.go). Each connection has a writer
// goroutine, for the replies that cannot be written at once (it resends
// the last packet on a nak); while its queue is long the core loop serves
// no more of that client's packets (backpressure). Each listener has an
// accept goroutine, which retries failed accepts. The target's own tracer
// goroutine owns every ptrace call; the core loop never makes one.
// The software-watchpoint engine's notes (swwatch.Note: a fallback it
// took) come from its own goroutine into a bounded queue of the process,
// which the core loop empties into --event-log at each event (events.go).
//
// # Limits
//
// What one client can make the server keep is bounded (limits.go, and
// README "Limits and failure behaviour"): its input, its queued replies,
// packets and notices, its host files; a client that has gone is
// forgotten once its writer has finished.
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
