// Package rsp is the gdb remote serial protocol on the wire (GDB manual,
// appendix "Remote Protocol"): framing, checksums, acknowledgments and
// no-ack mode, binary escapes, run-length encoding, typed requests, and the
// builders of replies and stop replies.
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
// On the server, per connection:
//
//	conn := rsp.NewConn(sock, rsp.ConnOptions{Reader: rsp.ReaderOptions{MaxPayload: packetSize}})
//	var p rsp.Parser
//	for {
//		f, err := conn.ReadFrame() // acks handled
//		...                        // *ChecksumError: read on; *OversizeError: reply E5a; *EscapeError: E16
//		req, err := p.Parse(f.Payload) // *ParseError: reply AppendError(err.Code)
//		hand req to the core loop  // req stays valid; f.Payload does not
//	}
//
// The core loop switches on the request type (*rsp.ReadMemory,
// *rsp.Resume, ..., *rsp.Unknown for the empty reply), builds its reply
// with the Append functions into a reused buffer, and the writer goroutine
// sends it with Conn.WritePacket (binary replies) or Conn.WritePacketRLE
// (hex and text replies). Stop replies are StopReply values.
//
// Client tools and tests use Client, which encodes requests with their
// AppendPayload methods and reads replies with run-length decoding.
//
// # Who owns the state
//
// rsp has no global mutable state. A Reader and a Parser belong to the
// connection's reader goroutine; a Conn's ReadFrame to that goroutine and
// its Write methods to the writer goroutine (it orders the two internally).
// A returned Frame payload is the Reader's buffer, valid until the next
// read; a parsed Request owns its memory and may cross goroutines. The
// encoders are pure functions.
//
// # Errors
//
// Request-scoped problems are typed values that carry their reply:
// *ParseError and *EscapeError (CodeInvalid), *OversizeError
// (CodeTooLarge), and *ChecksumError, answered '-'. The error codes are one table,
// ErrorCodeTable. Client input never makes rsp panic; the framer and the
// parser are fuzzed.
package rsp
