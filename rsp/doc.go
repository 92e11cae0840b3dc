// Package rsp is the gdb remote serial protocol on the wire (GDB manual,
// appendix "Remote Protocol"): framing, checksums, acknowledgments and
// no-ack mode, binary escapes, run-length encoding, typed requests, and the
// builders of replies and stop replies. lldb's extensions (lldb's "GDB
// Remote Protocol Extensions": qHostInfo, jThreadsInfo, the ;thread:ID;
// suffix, its keys of stop replies, its key:value; replies) are typed the
// same way (req_lldb.go).
//
// # What it must not know
//
// rsp knows packets, not processes. It has no ptrace, no Linux signal
// numbers (GDBSignal is GDB's numbering), no kernel thread ids (ThreadID is
// the wire's pPID.TID), no register layout (g data is bytes), and it
// imports none of gdbserverx's other packages. The server translates each
// of these, in one place each.
//
// # How the pieces fit
//
// Endpoint is the one framing and acknowledgment code: one end of a
// connection without its I/O. Its owner gives it the bytes it read and
// writes out what it queued; in between, the Endpoint finds frames (junk
// between them dropped as it comes), acknowledges ('+', '-' for a bad
// checksum, the last packet sent again on '-') until no-ack mode, and
// refuses a packet longer than MaxPayload without keeping it. The server
// drives one per client from its core loop, with non-blocking sockets
// and poll(2):
//
//	ep := rsp.NewEndpoint(rsp.EndpointOptions{MaxPayload: packetSize})
//	var p rsp.Parser
//	n, _ := read(fd, ep.Space()) // when poll says readable
//	ep.Filled(n)
//	for {
//		f, err, ok := ep.Next() // acks queued in ep.Output()
//		if !ok {
//			break
//		}
//		// *ChecksumError: skip (answered '-'); *OversizeError: reply
//		// E5a; *EscapeError: E16
//		req, err := p.Parse(f.Payload) // *ParseError: AppendError(err.Code)
//		... serve req; ep.Send(reply payload)
//	}
//	n, _ = write(fd, ep.Output()) // when poll says writable
//	ep.Wrote(n)
//
// Handlers switch on the request type (*rsp.ReadMemory, *rsp.Resume, ...,
// *rsp.Unknown for the empty reply) and build replies with the Append
// functions and the reply types' AppendPayload methods into a reused
// buffer. Stop replies are StopReply values.
//
// Conn is an Endpoint over a blocking stream, for tests and tools, and
// Client, over a Conn, encodes requests with their AppendPayload methods
// and reads replies with run-length decoding.
//
// # Who owns the state
//
// rsp has no global mutable state. An Endpoint, a Reader and a Parser
// each belong to one goroutine (the server's core loop owns those of
// every client). A Conn may be read by one goroutine while others write
// (a test reading notifications while it sends): it orders the two
// internally. A returned Frame payload is the Endpoint's or Reader's
// buffer, valid until the next frame is taken; a parsed Request owns its
// memory and outlives it (the server keeps the packets of a client that
// does not hold the process until it does). The encoders are pure
// functions.
//
// # Errors
//
// Request-scoped problems are typed values that carry their reply:
// *ParseError and *EscapeError (CodeInvalid), *OversizeError
// (CodeTooLarge), and *ChecksumError, answered '-'. The error codes are one table,
// ErrorCodeTable. Client input never makes rsp panic; the framer and the
// parser are fuzzed.
package rsp
