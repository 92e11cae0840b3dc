package main

import (
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/internal/procfs"
)

// TestAttachToStoppedProcess: a server started with --attach on a process
// that a SIGSTOP has stopped serves gdb as GNU gdbserver does (the
// thread, its frame, its memory), and after gdb's detach the process is
// still stopped, as it was found, until a SIGCONT.
func TestAttachToStoppedProcess(t *testing.T) {
	for name, bin := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			spin := gdbtest.Start(t, gdbtest.Program(t, "spin"))
			_, m, err := spin.Stdout.Wait(0, regexp.MustCompile(`^pid (\d+) ready$`), gdbtest.Timeout)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(m[1])
			if err := unix.Kill(pid, unix.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			// The stop itself, without reaping it (the process is ours).
			var info unix.Siginfo
			if err := unix.Waitid(unix.P_PID, pid, &info, unix.WSTOPPED|unix.WNOWAIT, nil); err != nil {
				t.Fatalf("waitid: %v", err)
			}
			srv := gdbtest.StartServer(t, bin, "--attach", "127.0.0.1:0", m[1])
			out := gdb(t, srv, "info threads", "print spins > 0", "bt 1", "detach")
			contains(t, out,
				`\* 1 +Thread `+m[1]+`\.`+m[1]+` "spin"`,
				`\$1 = 1`,
				`(?m)^#0  .*\(.*\)`, // wherever the SIGSTOP found it: spin_once, main or its printf
				`\[Inferior 1 \(process `+m[1]+`\) detached\]`,
			)
			if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
				t.Errorf("server after detach: %v", err)
			}
			status, err := procfs.ReadStatus(pid)
			state, _ := status.Field("State")
			if err != nil || len(state) == 0 || state[0] != 'T' {
				t.Errorf("after detach, the process that was stopped is %q (%v), want T (stopped)", state, err)
			}
			if tp, ok := status.Int("TracerPid"); !ok || tp != 0 {
				t.Errorf("after detach, TracerPid %d", tp)
			}
			unix.Kill(pid, unix.SIGCONT)
		})
	}
}
