package gdbtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// LLDBTools returns the paths of lldb and of the lldb-server of the same
// version: Debian's lldb (14) installs lldb and lldb-server, lldb-16
// installs lldb-16 and lldb-server-16. It skips the test when neither is
// installed (`.ci/run` installs lldb).
func LLDBTools(t testing.TB) (lldb, server string) {
	t.Helper()
	for _, suffix := range []string{"", "-16", "-17", "-15", "-14"} {
		l, err1 := exec.LookPath("lldb" + suffix)
		s, err2 := exec.LookPath("lldb-server" + suffix)
		if err1 == nil && err2 == nil {
			return l, s
		}
	}
	t.Skip("lldb and lldb-server are not installed (apt-get install lldb)")
	return "", ""
}

// LLDB is an interactive lldb session on a pseudo-terminal, driven the
// way a user types: a command, or Ctrl-C while the program runs (lldb in
// batch mode runs `continue` to its end and has no Ctrl-C).
type LLDB struct {
	t    testing.TB
	cmd  *exec.Cmd
	tty  *os.File // the master side
	mu   sync.Mutex
	out  []byte        // the whole transcript
	grow chan struct{} // closed and replaced when out grows or ends
	done bool
	// Mark is where the next wait starts looking: each command moves it
	// to the end of the transcript before it is typed.
	Mark int
}

// StartLLDB starts lldb (path from LLDBTools) on a new pseudo-terminal,
// without colors or questions, with the given program as its target.
func StartLLDB(t testing.TB, lldb, program string) *LLDB {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	// A wide terminal: lldb wraps nothing the test matches.
	ws := &unix.Winsize{Row: 50, Col: 400}
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws)
	cmd := exec.Command(lldb, "--no-use-colors", "--no-lldbinit",
		"-o", "settings set auto-confirm true",
		"-o", "settings set stop-line-count-before 0",
		"-o", "settings set stop-line-count-after 0",
		"-o", "target create "+program)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=dumb")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		master.Close()
		slave.Close()
		t.Fatalf("start %s: %v", lldb, err)
	}
	slave.Close()
	l := &LLDB{t: t, cmd: cmd, tty: master, grow: make(chan struct{})}
	exited := make(chan struct{})
	go l.read()
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		master.Close()
		if t.Failed() {
			t.Logf("lldb transcript:\n%s", l.Transcript())
		}
	})
	l.Wait(regexp.MustCompile(`Current executable set to`))
	return l
}

func (l *LLDB) read() {
	buf := make([]byte, 4096)
	for {
		n, err := l.tty.Read(buf)
		l.mu.Lock()
		l.out = append(l.out, buf[:n]...)
		if err != nil {
			l.done = true
		}
		close(l.grow)
		l.grow = make(chan struct{})
		l.mu.Unlock()
		if err != nil {
			return // EIO once lldb has exited
		}
	}
}

// Transcript is everything lldb printed, carriage returns dropped.
func (l *LLDB) Transcript() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.ReplaceAll(string(l.out), "\r", "")
}

// Wait waits for re to match the transcript after Mark, with Timeout, and
// returns the submatches; Mark moves past the match.
func (l *LLDB) Wait(re *regexp.Regexp) []string {
	l.t.Helper()
	m, err := l.WaitErr(re, Timeout)
	if err != nil {
		l.t.Fatal(err)
	}
	return m
}

// WaitErr is Wait with an error instead of a failed test.
func (l *LLDB) WaitErr(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		text := strings.ReplaceAll(string(l.out[min(l.Mark, len(l.out)):]), "\r", "")
		if loc := re.FindStringSubmatchIndex(text); loc != nil {
			m := make([]string, 0, len(loc)/2)
			for i := 0; i < len(loc); i += 2 {
				if loc[i] < 0 {
					m = append(m, "")
				} else {
					m = append(m, text[loc[i]:loc[i+1]])
				}
			}
			// Mark counts bytes of out, carriage returns included.
			l.Mark += rawLen(l.out[l.Mark:], loc[1])
			l.mu.Unlock()
			return m, nil
		}
		done, grow := l.done, l.grow
		l.mu.Unlock()
		if done {
			return nil, fmt.Errorf("lldb ended without printing a match of %q", re)
		}
		select {
		case <-grow:
		case <-deadline.C:
			return nil, fmt.Errorf("lldb printed no match of %q within %v", re, timeout)
		}
	}
}

// rawLen is how many bytes of raw hold the first n bytes of raw with its
// carriage returns dropped.
func rawLen(raw []byte, n int) int {
	i := 0
	for ; i < len(raw) && n > 0; i++ {
		if raw[i] != '\r' {
			n--
		}
	}
	return i
}

// Cmd types a command, then waits for each of wants, in order, after it.
func (l *LLDB) Cmd(command string, wants ...string) {
	l.t.Helper()
	l.mu.Lock()
	l.Mark = len(l.out)
	l.mu.Unlock()
	if _, err := l.tty.Write([]byte(command + "\n")); err != nil {
		l.t.Fatalf("lldb: type %q: %v", command, err)
	}
	for _, w := range wants {
		if _, err := l.WaitErr(regexp.MustCompile(w), Timeout); err != nil {
			l.t.Fatalf("lldb %q: %v", command, err)
		}
	}
}

// Interrupt types Ctrl-C, as a user does, until lldb prints stopped, a
// match of re: the terminal sends lldb SIGINT, and lldb stops the running
// program (process interrupt). A Ctrl-C that comes before lldb counts the
// program as running is ignored by lldb; the user, and Interrupt, press
// it again (after 2 s, at most 15 times).
func (l *LLDB) Interrupt(stopped *regexp.Regexp) {
	l.t.Helper()
	// Not while lldb draws its prompt after "resuming": lldb 14 has
	// ended at a Ctrl-C that came in the middle of it ("(l^C", one CI
	// run, against lldb-server).
	l.WaitErr(regexp.MustCompile(`\(lldb\) `), 2*time.Second)
	for try := 0; try < 15; try++ {
		l.mu.Lock()
		l.Mark = len(l.out)
		l.mu.Unlock()
		if _, err := l.tty.Write([]byte{0x03}); err != nil {
			l.t.Fatalf("lldb: Ctrl-C: %v", err)
		}
		_, err := l.WaitErr(stopped, 2*time.Second)
		if err == nil {
			return
		}
		if l.ended() {
			l.t.Fatalf("lldb ended at a Ctrl-C: %v", err)
		}
	}
	l.t.Fatalf("lldb: 15 Ctrl-C, and no match of %q", stopped)
}

// openPTY opens a pseudo-terminal pair.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err = os.OpenFile(filepath.Join("/dev/pts", fmt.Sprint(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// ended says whether lldb has exited.
func (l *LLDB) ended() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done
}
