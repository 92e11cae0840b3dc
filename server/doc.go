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
// the pause.
//
// # Translation
//
// rsp knows packets and target knows processes; this package translates
// between them, one function per translation: GDB and Linux signal numbers
// (signals.go), wire thread ids and tids, the register table and target.xml
// (tdesc.go), File-I/O flags and errno (hostio.go).
package server
