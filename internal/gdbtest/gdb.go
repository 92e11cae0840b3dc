package gdbtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// gdbInit are the commands every gdb of the tests starts with: no
// questions, no network, no pager.
var gdbInit = []string{
	"-iex", "set debuginfod enabled off",
	"-iex", "set pagination off",
	"-iex", "set confirm off",
	"-iex", "set width 0",
	"-iex", "set height 0",
}

// Batch runs gdb -batch with the given -ex commands (each element one
// command) and returns what it printed (stdout and stderr interleaved).
// The run is bounded by Timeout; a timeout fails the test.
func Batch(t testing.TB, cmds ...string) string {
	t.Helper()
	out, err := BatchErr(Timeout, cmds...)
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	return out
}

// BatchErr is Batch without the test: it returns gdb's output and an error
// only when gdb could not run or did not finish in time (gdb's own exit
// status is ignored: a batch gdb exits 1 after a failed command).
func BatchErr(timeout time.Duration, cmds ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append([]string{"-batch", "-nx", "-q"}, gdbInit...)
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	cmd := exec.CommandContext(ctx, "gdb", args...)
	cmd.Stdin = nil
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return string(b), fmt.Errorf("gdb did not finish within %v", timeout)
	}
	if _, ok := err.(*exec.ExitError); ok {
		err = nil
	}
	return string(b), err
}

// MI is a gdb/MI session, the way an IDE drives gdb.
type MI struct {
	t     testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	Out   *Lines
	mu    sync.Mutex
	token int
	// Next is the index of the first line a wait looks at; each wait
	// moves it past what it consumed.
	Next int
}

// StartMI starts gdb --interpreter=mi3 and returns the session, ended
// when the test ends.
func StartMI(t testing.TB) *MI {
	t.Helper()
	args := append([]string{"--interpreter=mi3", "-nx", "-q"}, gdbInit...)
	cmd := exec.Command("gdb", args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	m := &MI{t: t, cmd: cmd, in: in, Out: newLines(r)}
	// IDEs run gdb/MI asynchronously: commands (an interrupt, say) are
	// accepted while the program runs.
	defer m.Cmd("-gdb-set mi-async on")
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		<-m.Out.Done()
		r.Close()
		if t.Failed() {
			t.Logf("gdb/MI transcript:\n%s", m.Out)
		}
	})
	return m
}

// Send writes one command line with a fresh token and returns the token.
func (m *MI) Send(command string) int {
	m.mu.Lock()
	m.token++
	tok := m.token
	m.mu.Unlock()
	if _, err := fmt.Fprintf(m.in, "%d%s\n", tok, command); err != nil {
		m.t.Fatalf("gdb/MI: write %q: %v", command, err)
	}
	return tok
}

// Result is a result record and the console output before it.
type Result struct {
	Class   string // done, running, connected, error, exit
	Rest    string // the record after the class, ",key=value..."
	Console string // ~"..." stream output, decoded and joined
	Target  string // @"..." stream output
	Log     string // &"..." stream output
}

// Cmd sends a command and waits for its result record.
func (m *MI) Cmd(command string) Result {
	m.t.Helper()
	r, err := m.CmdErr(command, Timeout)
	if err != nil {
		m.t.Fatalf("gdb/MI %q: %v", command, err)
	}
	return r
}

// CmdErr is Cmd with an error instead of a failed test.
func (m *MI) CmdErr(command string, timeout time.Duration) (Result, error) {
	start := m.Out.len()
	tok := m.Send(command)
	re := regexp.MustCompile(`^` + strconv.Itoa(tok) + `\^(done|running|connected|error|exit)(.*)$`)
	i, mm, err := m.Out.Wait(start, re, timeout)
	if err != nil {
		return Result{}, err
	}
	res := Result{Class: mm[1], Rest: mm[2]}
	res.Console, res.Target, res.Log = m.streams(start, i)
	if m.Next < i+1 {
		m.Next = i + 1
	}
	return res, nil
}

// Console runs a CLI command through -interpreter-exec and returns what it
// printed.
func (m *MI) Console(command string) Result {
	m.t.Helper()
	return m.Cmd("-interpreter-exec console " + Quote(command))
}

// WaitAsync waits for an async record of the given class (`*stopped`,
// `=thread-created`, ...) at or after m.Next and returns the line; m.Next
// moves past it.
func (m *MI) WaitAsync(prefix string, timeout time.Duration) (string, Result, error) {
	start := m.Next
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix))
	i, mm, err := m.Out.Wait(start, re, timeout)
	if err != nil {
		return "", Result{}, err
	}
	var res Result
	res.Console, res.Target, res.Log = m.streams(start, i)
	m.Next = i + 1
	line := m.Out.All()[i]
	_ = mm
	return line, res, nil
}

// Stopped waits for the next *stopped record.
func (m *MI) Stopped() string {
	m.t.Helper()
	line, _, err := m.WaitAsync("*stopped", Timeout)
	if err != nil {
		m.t.Fatalf("gdb/MI: %v", err)
	}
	return line
}

func (m *MI) streams(from, to int) (console, target, log string) {
	lines := m.Out.All()
	var c, tg, l strings.Builder
	for _, s := range lines[from:to] {
		if len(s) < 2 {
			continue
		}
		var b *strings.Builder
		switch s[0] {
		case '~':
			b = &c
		case '@':
			b = &tg
		case '&':
			b = &l
		default:
			continue
		}
		if u, err := strconv.Unquote(s[1:]); err == nil {
			b.WriteString(u)
		}
	}
	return c.String(), tg.String(), l.String()
}

func (l *Lines) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// Quote makes an MI c-string of s.
func Quote(s string) string { return strconv.Quote(s) }

// Kill ends gdb abruptly (SIGKILL), as a crashing IDE would: its
// connections close without a word.
func (m *MI) Kill() {
	m.cmd.Process.Kill()
}

// Script runs gdb -batch on a command file with the given text (several
// lines: `commands` blocks and the like) and returns what gdb printed.
func Script(t testing.TB, text string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.gdb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	args := append([]string{"-batch", "-nx", "-q"}, gdbInit...)
	args = append(args, "-x", f.Name())
	out, _ := exec.CommandContext(ctx, "gdb", args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("gdb did not finish within %v\n%s", Timeout, out)
	}
	return string(out)
}
