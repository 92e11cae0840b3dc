package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
)

// Core numbers in stop replies, through gdbserverx and GNU gdbserver.

// TestStopReplyCore: a stop reply says the core the thread stopped on
// (core:N), as with GNU gdbserver, and gdb/MI gives it in its *stopped
// record: the second stop here comes after the test has moved the
// program's main thread to another CPU. (gdb also reads each thread's
// core from the thread list, which it reads at these stops too: the
// stop reply itself is checked in gdb's `set debug remote 1` output.)
func TestStopReplyCore(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		t.Skipf("one CPU to run on (%v): no other to move the program to", cpus)
	}
	first, second := cpus[len(cpus)-1], cpus[0]
	t.Logf("the program runs on CPU %d, then on CPU %d", first, second)
	prog := gdbtest.Program(t, "threads")
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, "taskset", "-c", fmt.Sprint(first), bin, "127.0.0.1:0", prog, "1")
		m := regexp.MustCompile(`(?m)^Process \S+ created; pid = (\d+)`).FindStringSubmatch(srv.Stderr.String())
		if m == nil {
			t.Fatalf("%s: no pid in:\n%s", name, srv.Stderr)
		}
		pid, _ := strconv.Atoi(m[1])
		mi := ide(t, srv)
		mi.Cmd("-break-insert all_started")
		mi.Cmd("-break-insert wave_done")
		mi.Cmd("-exec-continue")
		if stop := mi.Stopped(); !strings.Contains(stop, fmt.Sprintf(`core="%d"`, first)) {
			t.Errorf("%s: first stop without core=\"%d\": %s", name, first, stop)
		}
		var to unix.CPUSet
		to.Set(second)
		if err := unix.SchedSetaffinity(pid, &to); err != nil {
			t.Fatal(err)
		}
		console(t, mi, "set debug remote 1")
		mi.Cmd("-exec-continue")
		if stop := mi.Stopped(); !strings.Contains(stop, `func="wave_done"`) || !strings.Contains(stop, fmt.Sprintf(`core="%d"`, second)) {
			t.Errorf("%s: second stop without core=\"%d\": %s", name, second, stop)
		}
		reply := regexp.MustCompile(fmt.Sprintf(`Packet received: T05[^"]*core:%x;`, second))
		if !reply.MatchString(strings.Join(mi.Out.All(), "\n")) {
			t.Errorf("%s: no stop reply with core:%x:\n%s", name, second, mi.Out)
		}
		mi.Cmd("kill")
	}
}
