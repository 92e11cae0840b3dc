package server

import (
	"encoding/json"
	"fmt"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/swwatch"
)

// recentNotice is a notice as `monitor events` lists it.
type recentNotice struct {
	at     time.Time
	client int
	text   string
}

// debugpointEvent handles one debugpoint's change: a notice for its
// owner, a line of the event log, and --debug output.
func (s *Server) debugpointEvent(ch debugpoints.Change) {
	s.debugf("debugpoint %v of client #%d (pair %v): %v -> %v (%v)", ch.Key, ch.Owner.Client, ch.Owner.Pair, ch.Old, ch.New, ch.Cause)
	point := s.proc.pointName(ch.Key)
	s.logEvent(ch, point)
	text := noticeText(ch, point)
	if text == "" {
		return
	}
	s.recent = append(s.recent, recentNotice{at: time.Now(), client: ch.Owner.Client, text: text})
	if len(s.recent) > maxRecentNotices {
		s.recent = append(s.recent[:0], s.recent[len(s.recent)-maxRecentNotices:]...)
	}
	if c := s.clientByID(ch.Owner.Client); c != nil {
		c.notify(text)
	}
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

// logEvent writes a change to --event-log as one JSON object per line.
func (s *Server) logEvent(ev debugpoints.Change, point string) {
	if s.cfg.EventLog == nil {
		return
	}
	r := eventRecord{
		Time:     time.Now().UTC().Format(time.RFC3339Nano),
		Client:   ev.Owner.Client,
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
	}
	if c := s.clientByID(ev.Owner.Client); c != nil {
		r.Peer = c.peer
	}
	if ev.Cause == arbiter.CauseEvicted {
		r.By = &struct {
			Client   int `json:"client"`
			Priority int `json:"priority"`
		}{ev.By.Owner.Client, ev.By.Priority}
	}
	r.Slots = ev.Slots
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	s.cfg.EventLog.Write(append(b, '\n'))
}

// maxQueuedNotes bounds the engine notes waiting for the core loop; more
// are counted and the count logged.
const maxQueuedNotes = 256

// engineNotes queues the notes of the software-watchpoint engine: the
// engine calls add as it serves faults while the process runs (inside
// the core loop's pump of the tracer); the core loop logs them at each
// event of the process and at its end (logEngineNotes), so that a run
// of many faults writes a bounded number of lines.
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

// logEngineNotes writes the engine's queued notes to --event-log (and
// --debug). Core loop only.
func (s *Server) logEngineNotes(p *process) {
	notes, dropped := p.notes.take()
	for _, n := range notes {
		s.debugf("%v", n)
		s.writeEventLog(noteRecord{Note: n.Kind.String(), Tid: int(n.Tid), PC: fmt.Sprintf("0x%x", n.PC), Text: n.Text})
	}
	if dropped > 0 {
		s.writeEventLog(noteRecord{Note: "dropped", Text: fmt.Sprintf("%d more notes of the software-watchpoint engine not logged", dropped)})
	}
}

func (s *Server) writeEventLog(r noteRecord) {
	if s.cfg.EventLog == nil {
		return
	}
	r.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	s.cfg.EventLog.Write(append(b, '\n'))
}
