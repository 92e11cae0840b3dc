package gdbtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeout bounds every wait of this package unless a caller gives another.
var Timeout = 60 * time.Second

// Lines collects the lines of an output stream and lets tests wait for one.
type Lines struct {
	mu     sync.Mutex
	lines  []string
	closed bool
	change chan struct{} // closed and replaced at every new line or at EOF
	done   chan struct{} // closed at EOF
}

func newLines(r io.Reader) *Lines {
	l := &Lines{change: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			close(l.change)
			l.change = make(chan struct{})
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.closed = true
		close(l.change)
		l.mu.Unlock()
	}()
	return l
}

// All returns every line so far.
func (l *Lines) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// String returns the lines so far joined with newlines.
func (l *Lines) String() string { return strings.Join(l.All(), "\n") }

// Wait waits for a line at index >= from that matches re and returns its
// index and the submatches. It fails when the stream ends or the deadline
// passes.
func (l *Lines) Wait(from int, re *regexp.Regexp, timeout time.Duration) (int, []string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for i := from; i < len(l.lines); i++ {
			if m := re.FindStringSubmatch(l.lines[i]); m != nil {
				l.mu.Unlock()
				return i, m, nil
			}
		}
		from = len(l.lines)
		closed, change := l.closed, l.change
		l.mu.Unlock()
		if closed {
			return -1, nil, fmt.Errorf("stream ended without a line matching %q", re)
		}
		select {
		case <-change:
		case <-deadline.C:
			return -1, nil, fmt.Errorf("no line matching %q within %v", re, timeout)
		}
	}
}

// Done is closed when the stream has ended.
func (l *Lines) Done() <-chan struct{} { return l.done }

// Proc is a started server process.
type Proc struct {
	Cmd    *exec.Cmd
	Stderr *Lines
	Stdout *Lines
	Port   int // from "Listening on port N", 0 if none seen
	exited chan struct{}
	err    error
}

// Start runs bin with args in its own process group, killed (with every
// process of the group) when the test ends.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Plain pipes, not exec's copying ones: the inferior inherits the
	// server's stdout and stderr and may outlive it.
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	errW.Close()
	outW.Close()
	if err != nil {
		errR.Close()
		outR.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Proc{Cmd: cmd, Stderr: newLines(errR), Stdout: newLines(outR), exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		// A process that inherited the pipes may outlive the server a
		// little (its tracer's death kills it); do not wait for ever.
		for _, l := range []*Lines{p.Stderr, p.Stdout} {
			select {
			case <-l.Done():
			case <-time.After(10 * time.Second):
				t.Errorf("%s: an output pipe is still open 10s after exit", bin)
			}
		}
		errR.Close()
		outR.Close()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", bin, p.Stderr)
		}
	})
	return p
}

var listeningRE = regexp.MustCompile(`^Listening on port (\d+)$`)

// StartServer starts a gdbserverx (or gdbserver) with args and waits for
// its "Listening on port N" line. Use 127.0.0.1:0 as COMM to get a free
// port.
func StartServer(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	p := Start(t, bin, args...)
	_, m, err := p.Stderr.Wait(0, listeningRE, Timeout)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s", bin, strings.Join(args, " "), err, p.Stderr)
	}
	p.Port, _ = strconv.Atoi(m[1])
	return p
}

// Addr is "127.0.0.1:PORT" of a started server.
func (p *Proc) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.Port) }

// WaitExit waits for the process to exit and returns its exit error.
func (p *Proc) WaitExit(timeout time.Duration) (*os.ProcessState, error) {
	select {
	case <-p.exited:
		return p.Cmd.ProcessState, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("process %d did not exit within %v", p.Cmd.Process.Pid, timeout)
	}
}

// Exited is closed when the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }
