package main

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/rsp"
)

// The soak (issue 13): 1000 connections of a real mix, one after another,
// on one server and one program, while a second client (an IDE through
// gdb/MI, with a hardware watchpoint) stays connected and keeps working.
// The server's RSS, descriptors, goroutines, slots and clients are read
// after 0, 10, 250, 500, 750 and 1000 connections; they must not grow.
//
// The kinds, in turn:
//   - detach: a client that opens as gdb 13 does (qSupported, no-ack,
//     target.xml, threads, auxv, exec-file, the program read over vFile,
//     libraries), sets a watchpoint and a breakpoint, runs to the
//     breakpoint, removes its points and detaches (every 25th is a real
//     gdb: watch, break, continue, detach);
//   - mid-packet: a client that says hello and closes its socket in the
//     middle of a packet;
//   - running: a client that sets five watchpoints (two of them
//     emulated: the second client holds a slot), resumes and closes its
//     socket while the program runs;
//   - killed: a client that watches, resumes and dies: its socket is
//     reset (every 25th is a real gdb/MI killed with SIGKILL).
//
// GDBSERVERX_SOAK=N runs N connections (default 1000; 200 with -short),
// GDBSERVERX_SOAK_KINDS=a,b only the kinds named. GDBSERVERX_SOAK_GNU=1
// runs the same connections against GNU gdbserver too, one kind at a time
// on a fresh gdbserver (it serves one client at a time: no second client;
// detach becomes a disconnect, since gdbserver's D ends its session), and
// logs how far it got: bench/soak.sh does.

// soakKinds names the kinds in the order they take turns.
func soakKinds(t *testing.T) []string {
	all := []string{"detach", "mid-packet", "running", "killed"}
	s := os.Getenv("GDBSERVERX_SOAK_KINDS")
	if s == "" {
		return all
	}
	kinds := strings.Split(s, ",")
	for _, k := range kinds {
		if !slices.Contains(all, k) {
			t.Fatalf("GDBSERVERX_SOAK_KINDS: %q is not one of %v", k, all)
		}
	}
	return kinds
}

// soakStop ends a run on GNU gdbserver that failed: the failure is what
// the run reports.
type soakStop struct{ msg string }

// soakSample is what a checkpoint reads.
type soakSample struct {
	conns      int
	cpuMs      int // the server's CPU time (utime+stime) so far
	rssKiB     int
	fds        int
	goroutines int    // -1 when unknown (gdbserver)
	clients    int    // -1 when unknown (gdbserver)
	slots      string // the points in monitor slots, one line each
}

// soakEnv is one soak run: the server, the program's symbols, the second
// client.
type soakEnv struct {
	t       *testing.T
	srv     *gdbtest.Proc
	gnu     bool
	prog    string
	syms    map[string]uint64
	lived   *gdbtest.MI // nil for gdbserver
	logFrom int         // where the next wait in the server's stderr starts
	nextID  int         // the client number the next connection gets
}

// failf fails the test, or for gdbserver ends the run.
func (e *soakEnv) failf(format string, args ...any) {
	e.t.Helper()
	if e.gnu {
		panic(soakStop{fmt.Sprintf(format, args...)})
	}
	e.t.Fatalf(format, args...)
}

func soakCount(t *testing.T) int {
	if s := os.Getenv("GDBSERVERX_SOAK"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 {
			t.Fatalf("GDBSERVERX_SOAK=%q: want a number of connections, at least 10", s)
		}
		return n
	}
	if testing.Short() {
		return 200
	}
	return 1000
}

func TestSoak(t *testing.T) {
	n := soakCount(t)
	kinds := soakKinds(t)
	prog := gdbtest.Program(t, "shared")
	start := time.Now()
	x, _ := runSoak(t, gdbtest.Server(t), prog, n, kinds, false)
	t.Logf("gdbserverx, %d connections (%s) in %v:\n%s", n, strings.Join(kinds, ", "), time.Since(start).Round(time.Millisecond), soakTable(x))
	if os.Getenv("GDBSERVERX_SOAK_GNU") != "" {
		gnu := gdbtest.GNUServer(t)
		for _, kind := range kinds {
			start = time.Now()
			g, failed := runSoak(t, gnu, prog, n/len(kinds), []string{kind}, true)
			if failed != "" {
				failed = "\n" + failed
			}
			t.Logf("GNU gdbserver, %d connections (%s) in %v:\n%s%s", n/len(kinds), kind, time.Since(start).Round(time.Millisecond), soakTable(g), failed)
		}
	}
	// Flat: after the first 10 connections, RSS within 2 MiB, the same
	// descriptors and goroutines, one client (the second one) and its
	// watchpoint alone in the slots.
	ten := x[1]
	for _, s := range x[2:] {
		if d := s.rssKiB - ten.rssKiB; d > 2048 {
			t.Errorf("RSS grew by %d KiB from %d to %d connections", d, ten.conns, s.conns)
		}
	}
	for _, s := range x[1:] {
		if s.fds != x[0].fds || s.goroutines > x[0].goroutines+1 || s.clients != 1 || s.slots != x[0].slots {
			t.Errorf("after %d connections: %d descriptors, %d goroutines, %d clients, slots\n%s\nwant as after 0: %d, %d, 1,\n%s",
				s.conns, s.fds, s.goroutines, s.clients, s.slots, x[0].fds, x[0].goroutines, x[0].slots)
		}
	}
}

// soakTable formats the samples.
func soakTable(ss []soakSample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%12s %7s %9s %4s %10s %7s  %s\n", "connections", "CPU ms", "RSS KiB", "fds", "goroutines", "clients", "slots")
	for _, s := range ss {
		g, cl := strconv.Itoa(s.goroutines), strconv.Itoa(s.clients)
		if s.goroutines < 0 {
			g, cl = "-", "-"
		}
		slots := strings.ReplaceAll(strings.TrimSpace(s.slots), "\n", "; ")
		if slots == "" {
			slots = "-"
		}
		fmt.Fprintf(&b, "%12d %7d %9d %4d %10s %7s  %s\n", s.conns, s.cpuMs, s.rssKiB, s.fds, g, cl, slots)
	}
	return b.String()
}

// cpuMs is the CPU time of process pid (utime+stime, /proc/PID/stat), in
// ms; the clock ticks are 10 ms.
func cpuMs(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return (utime + stime) * 10
}

// runSoak serves the program with bin and makes n connections of the
// kinds in turn, sampling at 0, 10 and every quarter. For gdbserver, a
// failure ends the run and is returned.
func runSoak(t *testing.T, bin, prog string, n int, kinds []string, gnu bool) (out []soakSample, failed string) {
	e := &soakEnv{t: t, gnu: gnu, prog: prog, nextID: 1}
	if gnu {
		defer func() {
			if r := recover(); r != nil {
				stop, ok := r.(soakStop)
				if !ok {
					panic(r)
				}
				lines := e.srv.Stderr.All()
				failed = fmt.Sprintf("%s\nits stderr ends:\n  %s", stop.msg, strings.Join(lines[max(0, len(lines)-6):], "\n  "))
			}
		}()
	}
	e.srv = gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
	// The symbols, as a debugger finds them in the running program
	// (a PIE, loaded where the server's disabled randomization puts it).
	e.syms = map[string]uint64{}
	probe := gdbtest.StartMI(t)
	if r := probe.Cmd("-target-select remote " + e.srv.Addr()); r.Class != "connected" {
		t.Fatalf("-target-select: %+v", r)
	}
	for _, name := range []string{"quiet1", "quiet2", "quiet3", "quiet4", "poke", "tick"} {
		expr := "&" + name
		if name == "tick" {
			expr = name
		}
		out := console(t, probe, "print/x (long)"+expr)
		m := regexp.MustCompile(`= (0x[0-9a-f]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("print %s: %q", expr, out)
		}
		e.syms[name], _ = strconv.ParseUint(m[1][2:], 16, 64)
	}
	console(t, probe, "disconnect")
	e.waitGone(e.nextID)
	e.nextID++
	if !gnu {
		// The second client: watches quiet1 (written only when a
		// debugger pokes it) and lets the program run.
		e.lived = ide(t, e.srv)
		e.nextID++
		console(t, e.lived, "watch quiet1")
		e.lived.Cmd("-exec-continue")
	}
	out = append(out, e.sample(0))
	for i := 0; i < n; i++ {
		kind := kinds[i%len(kinds)]
		real := i%(25*len(kinds)) < len(kinds) // every 25th of each kind
		e.connection(i, kind, real)
		if i+1 == 10 || (i+1)%(n/4) == 0 {
			out = append(out, e.sample(i+1))
		}
	}
	return out, ""
}

// waitGone waits for the server to log the end of client id.
func (e *soakEnv) waitGone(id int) {
	e.t.Helper()
	if e.gnu {
		i, _, err := e.srv.Stderr.Wait(e.logFrom, regexp.MustCompile(`^(Remote side has terminated connection|client connection closed)`), 10*time.Second)
		if err != nil {
			e.failf("client %d: %v", id, err)
		}
		e.logFrom = i + 1
		return
	}
	i, _, err := e.srv.Stderr.Wait(e.logFrom, regexp.MustCompile(fmt.Sprintf(`^Client #%d .*(disconnected|connection failed)`, id)), gdbtest.Timeout)
	if err != nil {
		e.t.Fatal(err)
	}
	e.logFrom = i + 1
}

// sample reads the server's figures; the second client checks that it
// still works: it stops the program, reads the server's tables, pokes
// quiet1 and sees its watchpoint trigger, and lets the program run again.
func (e *soakEnv) sample(conns int) (s soakSample) {
	t := e.t
	s = soakSample{conns: conns, goroutines: -1, clients: -1}
	defer func() {
		// Read last: the second client's first stop makes its gdb open
		// libc over vFile, a descriptor for as long as it is connected.
		pid := e.srv.Cmd.Process.Pid
		s.rssKiB, s.fds, s.cpuMs = statusKiB(t, pid, "VmRSS"), countFDs(t, pid), cpuMs(t, pid)
	}()
	if e.lived == nil {
		return s
	}
	mi := e.lived
	mi.Cmd("-exec-interrupt")
	mi.Stopped()
	stats := console(t, mi, "monitor stats")
	s.goroutines = statValue(t, stats, "server goroutines")
	s.clients = statValue(t, stats, "clients")
	// The points, without their hit counts.
	for _, line := range strings.Split(console(t, mi, "monitor slots"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 8 && f[0] != "slot" {
			s.slots += strings.Join(f[:len(f)-1], " ") + "\n"
		}
	}
	console(t, mi, "set var poke = 1")
	mi.Cmd("-exec-continue")
	if stop := mi.Stopped(); !strings.Contains(stop, `reason="watchpoint-trigger"`) || !strings.Contains(stop, `exp="quiet1"`) {
		t.Fatalf("after %d connections, the second client's watchpoint: %s", conns, stop)
	}
	mi.Cmd("-exec-continue")
	return s
}

// connection makes connection i of the soak.
func (e *soakEnv) connection(i int, kind string, real bool) {
	t := e.t
	id := e.nextID
	e.nextID++
	if real {
		switch kind {
		case "detach":
			leave, left := "detach", "detached]"
			if e.gnu {
				leave, left = "disconnect", "" // batch gdb says nothing
			}
			out, err := gdbtest.BatchErr(gdbtest.Timeout, "target remote "+e.srv.Addr(), "watch quiet2", "break tick", "continue", "delete", leave)
			if err != nil || !regexp.MustCompile(`Breakpoint 2, (0x[0-9a-f]+ in )?tick`).MatchString(out) || !strings.Contains(out, left) {
				e.failf("connection %d (gdb, detach): %v\n%s", i, err, out)
			}
			e.waitGone(id)
			return
		case "killed":
			mi := gdbtest.StartMI(t)
			for _, cmd := range []string{"-target-select remote " + e.srv.Addr(), "-interpreter-exec console \"watch quiet2\"", "-exec-continue"} {
				if r, err := mi.CmdErr(cmd, gdbtest.Timeout); err != nil || r.Class == "error" {
					e.failf("connection %d (gdb/MI, killed): %s: %v %v", i, cmd, r, err)
				}
			}
			mi.Kill()
			e.waitGone(id)
			return
		}
	}
	conn, err := net.DialTimeout("tcp", e.srv.Addr(), gdbtest.Timeout)
	if err != nil {
		e.failf("connection %d (%s): %v", i, kind, err)
	}
	defer conn.Close()
	deadline := gdbtest.Timeout
	if e.gnu {
		deadline = 10 * time.Second // a hung gdbserver ends its run sooner
	}
	conn.SetDeadline(time.Now().Add(deadline))
	c := &soakClient{e: e, i: i, kind: kind, c: rsp.NewClient(conn)}
	switch kind {
	case "detach":
		c.open(e.prog)
		c.call(fmt.Sprintf("Z2,%x,8", e.syms["quiet2"]), "OK")
		c.call(fmt.Sprintf("Z0,%x,1", e.syms["tick"]), "OK")
		if r := c.call("vCont;c", ""); !strings.HasPrefix(r, "T05") || !strings.Contains(r, "swbreak") {
			e.failf("connection %d (%s): vCont;c: %q, want the breakpoint", i, kind, r)
		}
		c.call(fmt.Sprintf("z0,%x,1", e.syms["tick"]), "OK")
		c.call(fmt.Sprintf("z2,%x,8", e.syms["quiet2"]), "OK")
		if !e.gnu {
			c.call("D", "OK")
		}
	case "mid-packet":
		c.call("qSupported:multiprocess+;swbreak+;hwbreak+", "PacketSize=")
		if _, err := conn.Write([]byte(fmt.Sprintf("$m%x,", e.syms["quiet2"]))); err != nil {
			e.failf("connection %d (%s): %v", i, kind, err)
		}
	case "running":
		c.open("")
		for _, p := range []string{"Z2,%x,8:quiet2", "Z2,%x,8:quiet3", "Z2,%x,8:quiet4", "Z2,%x,4:poke", "Z4,%x,8:quiet1"} {
			f, sym, _ := strings.Cut(p, ":")
			c.call(fmt.Sprintf(f, e.syms[sym]), "")
		}
		if err := c.c.SendPayload([]byte("vCont;c")); err != nil {
			e.failf("connection %d (%s): %v", i, kind, err)
		}
	case "killed":
		c.open("")
		c.call(fmt.Sprintf("Z2,%x,8", e.syms["quiet2"]), "OK")
		if err := c.c.SendPayload([]byte("vCont;c")); err != nil {
			e.failf("connection %d (%s): %v", i, kind, err)
		}
		// Reset, as the kernel resets the socket of a process that dies
		// with replies unread.
		conn.(*net.TCPConn).SetLinger(0)
	}
	conn.Close()
	e.waitGone(id)
}

// soakClient is a raw client of the soak.
type soakClient struct {
	e    *soakEnv
	i    int
	kind string
	c    *rsp.Client
}

// call sends payload and returns the reply, which must start with want.
func (c *soakClient) call(payload, want string) string {
	c.e.t.Helper()
	err := c.c.SendPayload([]byte(payload))
	var r rsp.Reply
	if err == nil {
		r, err = c.c.Wait()
	}
	if err != nil {
		c.e.failf("connection %d (%s): %s: %v", c.i, c.kind, payload, err)
	}
	if !strings.HasPrefix(string(r.Payload), want) {
		c.e.failf("connection %d (%s): %s: %q, want %q...", c.i, c.kind, payload, r.Payload, want)
	}
	return string(r.Payload)
}

// open is gdb 13's opening, as its remote log shows it; with exe, the
// program is read over vFile as gdb reads it with the sysroot "target:".
func (c *soakClient) open(exe string) {
	c.call("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386", "PacketSize=")
	c.call("vMustReplyEmpty", "")
	if err := c.c.StartNoAck(); err != nil {
		c.e.failf("connection %d (%s): %v", c.i, c.kind, err)
	}
	c.call("Hgp0.0", "OK")
	c.xfer("qXfer:features:read:target.xml")
	stop := c.call("?", "T")
	c.xfer("qXfer:threads:read:")
	c.call("qAttached", "")
	c.call("Hcp0.0", "OK")
	c.call("g", "")
	c.xfer("qXfer:auxv:read:")
	if exe != "" {
		pid := regexp.MustCompile(`thread:p([0-9a-f]+)\.`).FindStringSubmatch(stop)
		if pid == nil {
			c.e.failf("connection %d (%s): no pid in %q", c.i, c.kind, stop)
		}
		c.xfer("qXfer:exec-file:read:" + pid[1])
		c.call("vFile:setfs:0", "F0")
		fd := strings.TrimPrefix(c.call("vFile:open:"+hexString(exe)+",0,1c0", "F"), "F")
		for off := 0; ; {
			r := c.call(fmt.Sprintf("vFile:pread:%s,3fff,%x", fd, off), "F")
			n, err := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(r, ";", 2)[0], "F"), 16, 64)
			if err != nil || n <= 0 {
				break
			}
			off += int(n)
		}
		c.call("vFile:close:"+fd, "F0")
	}
	c.xfer("qXfer:libraries-svr4:read:")
}

// xfer reads a qXfer object whole.
func (c *soakClient) xfer(prefix string) {
	for off := 0; ; {
		r := c.call(fmt.Sprintf("%s:%x,ffb", prefix, off), "")
		if r == "" || r[0] == 'E' || r[0] == 'l' {
			return
		}
		off += len(r) - 1
	}
}
