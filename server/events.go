package server

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/swwatch"
)

// The server's output for people and tools: its messages on stderr
// (logger), one JSON object per line on --event-log (eventLog), and the
// last notices for `monitor events` (recentNotice). All of it is written
// by the core loop.

// logger writes the server's messages for people (Config.Log, stderr):
// gdbserver's lines, and with --debug (or `monitor set debug 1`) its own
// debugging output. The Server and its process share it.
type logger struct {
	w     io.Writer
	debug bool
}

// printf writes one line.
func (l *logger) printf(format string, args ...any) {
	fmt.Fprintf(l.w, format+"\n", args...)
}

// debugf writes one line with --debug only.
func (l *logger) debugf(format string, args ...any) {
	if l.debug {
		fmt.Fprintf(l.w, "[debug] "+format+"\n", args...)
	}
}

// recentNotice is a notice as `monitor events` lists it.
type recentNotice struct {
	at     time.Time
	client int
	text   string
}

// eventLog writes --event-log: a line per debugpoint change, and the
// notes of the software-watchpoint engine. Without --event-log, w is nil
// and nothing is written.
type eventLog struct {
	w   io.Writer
	log *logger
}

// eventRecord is one line of --event-log.
type eventRecord struct {
	Time     string `json:"time"`
	Client   int    `json:"client"`
	Peer     string `json:"peer,omitempty"`
	Point    string `json:"point"`
	Kind     string `json:"kind"`
	Addr     string `json:"addr"`
	Len      uint64 `json:"len"`
	Pair     bool   `json:"pair,omitempty"`
	Old      string `json:"old"`
	New      string `json:"new"`
	Change   string `json:"change"`
	Cause    string `json:"cause"`
	Priority int    `json:"priority"`
	By       *struct {
		Client   int `json:"client"`
		Priority int `json:"priority"`
	} `json:"by,omitempty"`
	Slots []int `json:"slots,omitempty"`
}

// change writes a debugpoint's change (of the point named point, of the
// client at peer, "" when it has gone) as one line.
func (e *eventLog) change(ev debugpoints.Change, point, peer string) {
	if e.w == nil {
		return
	}
	r := eventRecord{
		Client:   ev.Owner.Client,
		Peer:     peer,
		Point:    point,
		Kind:     ev.Key.Kind.String(),
		Addr:     fmt.Sprintf("0x%x", ev.Key.Addr),
		Len:      ev.Key.Len,
		Pair:     ev.Owner.Pair,
		Old:      ev.Old.String(),
		New:      ev.New.String(),
		Change:   ev.Change().String(),
		Cause:    ev.Cause.String(),
		Priority: ev.Priority,
		Slots:    ev.Slots,
	}
	if ev.Cause == arbiter.CauseEvicted {
		r.By = &struct {
			Client   int `json:"client"`
			Priority int `json:"priority"`
		}{ev.By.Owner.Client, ev.By.Priority}
	}
	r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	e.write(r)
}

// maxQueuedNotes bounds the engine notes waiting for the core loop; more
// are counted and the count logged.
const maxQueuedNotes = 256

// engineNotes queues the notes of the software-watchpoint engine: the
// engine calls add as it serves faults while the process runs (inside
// the core loop's pump of the tracer); the core loop logs them at each
// event of the process and at its end (eventLog.engineNotes), so that a
// run of many faults writes a bounded number of lines.
type engineNotes struct {
	queue   []swwatch.Note
	dropped int
}

func (q *engineNotes) add(n swwatch.Note) {
	if len(q.queue) >= maxQueuedNotes {
		q.dropped++
		return
	}
	q.queue = append(q.queue, n)
}

func (q *engineNotes) take() ([]swwatch.Note, int) {
	out, dropped := q.queue, q.dropped
	q.queue, q.dropped = nil, 0
	return out, dropped
}

// noteRecord is one line of --event-log for a note of the
// software-watchpoint engine: a fallback it took (an instruction it
// could not decode; a range it can only bound, whose writes it confirms
// by comparing values), a limit it hit.
type noteRecord struct {
	Time string `json:"time"`
	Note string `json:"note"` // undecodable, partial, stepped, open-syscall, error, or dropped
	Tid  int    `json:"tid,omitempty"`
	PC   string `json:"pc,omitempty"`
	Text string `json:"text"`
}

// engineNotes writes the engine's queued notes (and --debug lines).
func (e *eventLog) engineNotes(q *engineNotes) {
	notes, dropped := q.take()
	for _, n := range notes {
		e.log.debugf("%v", n)
		e.note(noteRecord{Note: n.Kind.String(), Tid: int(n.Tid), PC: fmt.Sprintf("0x%x", n.PC), Text: n.Text})
	}
	if dropped > 0 {
		e.note(noteRecord{Note: "dropped", Text: fmt.Sprintf("%d more notes of the software-watchpoint engine not logged", dropped)})
	}
}

func (e *eventLog) note(r noteRecord) {
	if e.w == nil {
		return
	}
	r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	e.write(r)
}

func (e *eventLog) write(r any) {
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	e.w.Write(append(b, '\n'))
}
