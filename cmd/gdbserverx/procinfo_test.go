package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// What gdb asks the server about the system and the process: `info os`
// (qXfer:osdata:read), `info proc` (vFile on /proc/PID); through
// gdbserverx and GNU gdbserver.

// osHeading is the heading of an `info os` table in gdb's output, the
// line that starts with its first column's name, spaces squeezed.
func osHeading(out, first string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, first+" ") {
			return strings.Join(strings.Fields(line), " ")
		}
	}
	return ""
}

// TestInfoOS: `info os` lists the tables, and each table has the columns
// of GNU gdbserver's, with or without a process (extended-remote, before
// `run`); the processes table has the server's own pid and command line,
// the sockets table its listening socket, the threads table a thread
// of the process being debugged; an unknown table is refused the same way.
func TestInfoOS(t *testing.T) {
	prog := gdbtest.Program(t, "threads")
	headings := map[string]map[string]string{}
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "--multi", "127.0.0.1:0")
		tables := []struct{ typ, first string }{
			{"", "Type"}, {"processes", "pid"}, {"procgroups", "pgid"}, {"threads", "pid"}, {"files", "pid"},
			{"sockets", "local"}, {"shm", "key"}, {"semaphores", "key"}, {"msg", "key"}, {"cpus", "processor"},
		}
		cmds := []string{"target extended-remote " + srv.Addr()}
		for _, tb := range tables {
			// The marker is written with escapes: gdb's own command
			// line is in the processes table.
			cmds = append(cmds, `echo \043@\043 `+tb.typ+`\n`, "info os "+tb.typ)
		}
		cmds = append(cmds, `echo \043@\043 nosuch\n`, "info os nosuch", "monitor exit")
		out := gdbtest.Batch(t, cmds...)
		parts := strings.Split(out, "#@# ")
		headings[name] = map[string]string{}
		for i, tb := range tables {
			part := parts[i+1]
			headings[name][tb.typ] = osHeading(part, tb.first)
			switch tb.typ {
			case "":
				for _, ty := range []string{"cpus", "files", "modules", "msg", "processes", "procgroups", "semaphores", "shm", "sockets", "threads"} {
					if !regexp.MustCompile(`(?m)^` + ty + ` +Listing of all`).MatchString(part) {
						t.Errorf("%s: `info os` lacks %s:\n%s", name, ty, part)
					}
				}
			case "processes":
				pid := srv.Cmd.Process.Pid
				if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d +\S+ +%s --multi 127\.0\.0\.1:0 +\d`, pid, regexp.QuoteMeta(bin))).MatchString(part) {
					t.Errorf("%s: `info os processes` lacks the server, pid %d:\n%.2000s", name, pid, part)
				}
			case "sockets":
				if !regexp.MustCompile(fmt.Sprintf(`(?m)^127\.0\.0\.1 +%d +0\.0\.0\.0 +0 +LISTEN +\S+ +INET +STREAM`, srv.Port)).MatchString(part) &&
					!regexp.MustCompile(fmt.Sprintf(`(?m)^0\.0\.0\.0 +%d +0\.0\.0\.0 +0 +LISTEN`, srv.Port)).MatchString(part) {
					t.Errorf("%s: `info os sockets` lacks the server's port %d:\n%s", name, srv.Port, part)
				}
			}
		}
		if !strings.Contains(parts[len(parts)-1], "Wrong osdata type?") {
			t.Errorf("%s: `info os nosuch`:\n%s", name, parts[len(parts)-1])
		}

		// With a process: its threads are in the threads table.
		srv2 := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, "1")
		out = gdbtest.Batch(t, "target remote "+srv2.Addr(), "break all_started", "continue", "info os threads", "kill")
		m := regexp.MustCompile(`(?m)^Process \S+ created; pid = (\d+)`).FindStringSubmatch(srv2.Stderr.String())
		if m == nil || len(regexp.MustCompile(`(?m)^`+m[1]+` +threads +\d+ +-?\d+`).FindAllString(out, -1)) != 5 {
			t.Errorf("%s: `info os threads` lacks the 5 threads of the program (%v):\n%s", name, m, out)
		}
	}
	if gs, ok := headings["gdbserver"]; ok {
		for typ, h := range headings["gdbserverx"] {
			if gs[typ] != h {
				t.Errorf("info os %s: gdbserverx's columns %q, gdbserver's %q", typ, h, gs[typ])
			}
		}
	}
}

// TestInfoProc: `info proc` and its forms read the process's /proc
// files through the server's host I/O: the same as with GNU gdbserver,
// but for the pid.
func TestInfoProc(t *testing.T) {
	prog := gdbtest.Program(t, "threads")
	outs := map[string]string{}
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, "1")
		out := gdbtest.Batch(t, "target remote "+srv.Addr(), "break all_started", "continue",
			"info proc", "info proc cmdline", "info proc cwd", "info proc exe", "info proc mappings", "info proc stat", "kill")
		m := regexp.MustCompile(`(?m)^process (\d+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no `process PID` line:\n%s", name, out)
		}
		cwd, _ := os.Getwd()
		contains(t, out,
			`cmdline = '`+regexp.QuoteMeta(prog)+` 1'`,
			`cwd = '`+regexp.QuoteMeta(cwd)+`'`,
			`exe = '`+regexp.QuoteMeta(prog)+`'`,
			`0x[0-9a-f]+ +0x[0-9a-f]+ +0x[0-9a-f]+ +0x[0-9a-f]+ +r-xp +`+regexp.QuoteMeta(prog),
			`\[stack\]`,
			`Process: `+m[1],
			`Exec file: `+regexp.QuoteMeta(filepath.Base(prog)),
		)
		// What differs between two runs: pids, addresses, times.
		norm := strings.ReplaceAll(out, m[1], "PID")
		norm = regexp.MustCompile(`0x[0-9a-f]+|\b\d+\b`).ReplaceAllString(norm, "N")
		var keep []string
		for _, line := range strings.Split(norm, "\n") {
			if strings.Contains(line, "cmdline") || strings.Contains(line, "cwd") || strings.Contains(line, "exe =") || strings.Contains(line, "Exec file") {
				keep = append(keep, line)
			}
		}
		outs[name] = strings.Join(keep, "\n")
	}
	if gs, ok := outs["gdbserver"]; ok && gs != outs["gdbserverx"] {
		t.Errorf("info proc through gdbserverx:\n%s\nthrough gdbserver:\n%s", outs["gdbserverx"], gs)
	}
}
