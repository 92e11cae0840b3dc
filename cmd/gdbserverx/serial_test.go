package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
)

// ptyPair is a pseudo-terminal: the master end, which the test holds, and
// the slave's path, which the server or gdb opens.
type ptyPair struct {
	master *os.File
	slave  string
}

// openPTYPair opens a pseudo-terminal pair. The test also keeps the slave
// open (without touching its modes) for the life of the test: a master read
// then blocks instead of failing with EIO while no one else has the slave
// open (before the server opens it, after gdb closes it).
func openPTYPair(t *testing.T) ptyPair {
	t.Helper()
	// Non-blocking, so that the runtime polls it and Close ends a
	// blocked Read (and really closes the fd: a hangup for the slave).
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals (/dev/ptmx): %v", err)
	}
	m := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return ptyPair{master: m, slave: path}
}

// crossConnect copies bytes both ways between two pty masters, as a null
// modem cable between two serial ports would. The copies stop when the
// test ends.
func crossConnect(t *testing.T, a, b *os.File) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	cp := func(dst, src *os.File) {
		defer wg.Done()
		_, err := io.Copy(dst, src)
		errs <- err
	}
	wg.Add(2)
	go cp(a, b)
	go cp(b, a)
	// Registered after the pairs' cleanups, so it runs before them:
	// closing the masters ends both copies.
	t.Cleanup(func() {
		a.Close()
		b.Close()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, os.ErrClosed) && !errors.Is(err, unix.EIO) {
				t.Errorf("serial line copy: %v", err)
			}
		}
	})
}

// TestSerial serves a program over a serial line: the server on one
// pseudo-terminal, gdb on another, the test carrying bytes between them.
// Both ends set their tty raw themselves; a cooked end (echo, CR/LF
// translation, line buffering) corrupts or stalls the packets. The same
// session runs against GNU gdbserver.
func TestSerial(t *testing.T) {
	t.Run("gdbserverx", func(t *testing.T) { testSerial(t, gdbtest.Server(t)) })
	t.Run("gdbserver", func(t *testing.T) { testSerial(t, gdbtest.GNUServer(t)) })
}

func testSerial(t *testing.T, bin string) {
	prog := gdbtest.Program(t, "basic")
	server, client := openPTYPair(t), openPTYPair(t)
	crossConnect(t, server.master, client.master)

	srv := gdbtest.Start(t, bin, server.slave, prog, "7")
	ready := regexp.MustCompile(`^Remote debugging using ` + regexp.QuoteMeta(server.slave) + `$`)
	if _, _, err := srv.Stderr.Wait(0, ready, gdbtest.Timeout); err != nil {
		t.Fatalf("server not ready: %v\nstderr:\n%s", err, srv.Stderr)
	}

	out := gdbtest.Batch(t,
		"target remote "+client.slave,
		"break square",
		"continue",
		"print v",
		"print counter",
		"continue",
	)
	contains(t, out,
		`Breakpoint 1, square \(v=5\) at .*basic\.c:18`,
		`\$1 = 5`,
		`\$2 = 5`,
		`\[Inferior 1 \(process \d+\) exited with code 07\]`,
	)
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Child exited with status 7$`), gdbtest.Timeout); err != nil {
		t.Error(err)
	}

	// A serial line tells the server nothing when gdb goes; hanging up
	// does. With its program gone, the server then exits.
	server.master.Close()
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Errorf("server after hangup: %v", err)
	}
}
