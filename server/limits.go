package server

import (
	"time"

	"gdbserverx/rsp"
)

// The server's limits, in one place: what one client may make the server
// keep, and what happens at each limit (README, "Limits and failure
// behaviour", gives the same list). Every limit
// bounds memory or descriptors per client, so that the server's size does
// not depend on what clients send or on how many have come and gone.

// PacketSize is the largest packet payload the server accepts and
// advertises (qSupported PacketSize). gdb sizes its m, X and vFile:pread
// requests by it, so a larger value means fewer round trips for a memory
// dump, a `restore` or a file read (figures: bench/RESULTS.md, "server").
// A longer packet is read to its end without being kept and answered E5a
// (rsp.CodeTooLarge).
const PacketSize = 0x20000

// DefaultMaxClients is how many clients are served at once unless
// --clients says otherwise. One more is refused at once: its first packet
// is answered "E.gdbserverx: refused: ..." (gdb prints it) and the
// connection closed.
const DefaultMaxClients = 8

// maxInput bounds what is kept of one client's input between packets: one
// whole packet of the advertised size, escaped (two bytes per byte at
// most), with its '$' and '#xx' (rsp.MaxFrameLen). Bytes outside a packet (anything before a
// '$' that is not '+', '-' or 0x03) are dropped as they are read; a packet
// longer than this is read to its end without being kept (E5a). The input
// buffer never grows past it.
var maxInput = rsp.MaxFrameLen(PacketSize)

// Backpressure. A client's replies wait in its Endpoint's output while
// its socket is full. Once pauseBytes wait, the core loop serves no more
// of that client's packets: it reads at most maxInput more of its input
// and then stops reading it, until the output is written. A client that
// sends many packets at once (pipelining, 1000 '-') is served at the pace
// it reads its replies, never dropped.
const pauseBytes = 2 * PacketSize

// maxUnwritten bounds the output waiting for one client. Backpressure
// keeps a client's own replies below pauseBytes and one reply; what can
// go past it is output the client did not ask for (notices, stop
// replies) while it reads nothing. Such a client is dropped, with "does
// not read its replies" on the server's stderr, rather than kept.
const maxUnwritten = 4 * pauseBytes

// maxQueuedRequests bounds the packets kept from a client that does not
// hold the process (it resumed, or waits for the process to stop): they
// are served once it holds it. gdb sends none but Ctrl-C then; past the
// limit the client's input is read no further (as above) until it holds
// the process.
const maxQueuedRequests = 8

// maxQueuedNotices bounds the notices kept for a client that holds the
// process (they are told at its next resume). Past it the oldest are
// dropped, and the client is told how many with the next ones; `monitor
// events` still lists the last maxRecentNotices.
const maxQueuedNotices = 64

// maxRecentNotices is how many notices `monitor events` can show, for
// every client together.
const maxRecentNotices = 200

// maxHostFiles bounds the host files one client may hold open through
// vFile:open. gdb keeps the program and each shared library open while it
// is connected. The next vFile:open is answered F-1,18 (EMFILE), as when
// the process runs out of descriptors; the files are closed when the
// client leaves.
const maxHostFiles = 1024

// collectGarbage is how much of the heap may be garbage when a client is
// forgotten before the server has the garbage collector run (see
// Server.collect): the memory of clients that have gone is reused, and
// the server's RSS does not grow with the number of connections.
const collectGarbage = 256 << 10

// Accept failures (EMFILE, ENFILE, ENOBUFS, ENOMEM: the server or the
// system is out of descriptors or memory) are retried after a wait that
// starts at acceptRetryMin and doubles up to acceptRetryMax, so that a
// listener stops only when it is closed. The connection waits in the
// kernel's backlog meanwhile and is served once a descriptor frees.
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)
