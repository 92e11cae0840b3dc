package rsp

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// transcript is a recorded session (testdata/transcript-*.txt).
type transcript struct {
	name     string
	toServer []string // raw frames gdb sent, acks included
	toClient []string // raw frames the server sent
	requests []string // payloads of the packets gdb sent
	// requestFrames are the raw frames of requests, index for index.
	requestFrames []string
	replies       []string // payloads of the packets the server sent, decoded
}

var (
	transcriptsOnce sync.Once
	transcripts     []transcript
	transcriptsErr  error
)

func loadTranscripts(tb testing.TB) []transcript {
	tb.Helper()
	transcriptsOnce.Do(func() { transcripts, transcriptsErr = readTranscripts() })
	if transcriptsErr != nil {
		tb.Fatal(transcriptsErr)
	}
	return transcripts
}

func readTranscripts() ([]transcript, error) {
	files, err := filepath.Glob("testdata/transcript-*.txt")
	if err != nil {
		return nil, err
	}
	var all []transcript
	for _, name := range files {
		tr, err := readTranscript(name)
		if err != nil {
			return nil, err
		}
		all = append(all, tr)
	}
	return all, nil
}

func readTranscript(name string) (transcript, error) {
	f, err := os.Open(name)
	if err != nil {
		return transcript{}, err
	}
	defer f.Close()
	tr := transcript{name: filepath.Base(name)}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || text[0] == '#' {
			continue
		}
		if len(text) < 3 || (text[0] != '>' && text[0] != '<') || text[1] != ' ' {
			return tr, &os.PathError{Op: "parse", Path: name, Err: strconv.ErrSyntax}
		}
		raw, err := strconv.Unquote(text[2:])
		if err != nil {
			return tr, &os.PathError{Op: "parse line " + strconv.Itoa(line), Path: name, Err: err}
		}
		toServer := text[0] == '>'
		if toServer {
			tr.toServer = append(tr.toServer, raw)
		} else {
			tr.toClient = append(tr.toClient, raw)
		}
		if raw[0] != '$' {
			continue
		}
		fr, err := NewReader(strings.NewReader(raw), ReaderOptions{MaxPayload: 1 << 20, FromServer: !toServer}).ReadFrame()
		if err != nil {
			return tr, &os.PathError{Op: "read frame line " + strconv.Itoa(line), Path: name, Err: err}
		}
		if toServer {
			tr.requests = append(tr.requests, string(fr.Payload))
			tr.requestFrames = append(tr.requestFrames, raw)
		} else {
			tr.replies = append(tr.replies, string(fr.Payload))
		}
	}
	return tr, sc.Err()
}
