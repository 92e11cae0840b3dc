package agentexpr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/rsp"
)

var update = flag.Bool("update", false, "rewrite "+goldenFile+" from gdb 13 and GNU gdbserver")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	gdbtest.Cleanup()
	os.Exit(code)
}

// nHits is how often testdata/agent.c calls f (its default).
const nHits = 200

// hit is the state of testdata/agent.c when f is called with i: what
// main's loop stored, computed here from the C source, not read from the
// process.
type hit struct {
	i, count    int32
	flags       uint8
	delta       int8
	s           int16
	bits        uint32
	sbits       int32
	big         int64
	ubig        uint64
	name, label string
	flag        int32
	total       int64
}

var names = [4]string{"zero", "one", "two", "three"}

func hitAt(i int) hit {
	h := hit{
		i:     int32(i),
		count: int32(i>>2) + 1,
		flags: uint8(i * 7),
		delta: int8(-i),
		s:     int16(i * 1000),
		bits:  uint32(i) & 31,
		sbits: int32(uint32(-i)<<21) >> 21,
		big:   -int64(i) * 1000000007,
		ubig:  uint64(i) << 40,
		name:  names[i&3],
		label: "agent",
	}
	if i%5 == 0 {
		h.flag = 1
	}
	for j := range i {
		h.total += int64(j) + int64(j>>2) + 1
	}
	return h
}

// result is the C value of one expression gdb sends, at one hit: a
// condition's value, a command's printed text, or the evaluation error
// (errMemory for any *MemoryError).
type result struct {
	value int64
	text  string
	err   error
	cmd   bool
}

var errMemory = errors.New("memory")

func (r result) String() string {
	switch {
	case errors.Is(r.err, errMemory):
		return "error: memory at 0x0"
	case r.err != nil:
		return "error: " + r.err.Error()
	case r.cmd:
		return fmt.Sprintf("%q", r.text)
	}
	return fmt.Sprint(r.value)
}

func b(c bool) result {
	if c {
		return result{value: 1}
	}
	return result{}
}

func printed(format string, args ...any) result {
	return result{text: fmt.Sprintf(format, args...), cmd: true}
}

// gdbCases are breakpoints on f and what gdb 13 compiles them to: every
// kind of C operand and operator a condition uses, and dprintf. want is
// the C value of each expression in the order of the packet (conditions,
// then commands).
var gdbCases = []struct {
	name string
	gdb  []string
	want func(h hit) []result
}{
	{"equal", []string{"break f if i == 150"}, func(h hit) []result { return []result{b(h.i == 150)} }},
	{"and", []string{"break f if s->count > 3 && flag"}, func(h hit) []result { return []result{b(h.count > 3 && h.flag != 0)} }},
	{"or", []string{"break f if i % 7 == 3 || s->delta < -100"}, func(h hit) []result { return []result{b(h.i%7 == 3 || h.delta < -100)} }},
	{"unsigned-char", []string{"break f if s->flags == 0xfe"}, func(h hit) []result { return []result{b(h.flags == 0xfe)} }},
	{"bitfields", []string{"break f if s->bits == 17 && s->sbits < -15"}, func(h hit) []result { return []result{b(h.bits == 17 && h.sbits < -15)} }},
	{"long-long-div", []string{"break f if s->big / 1000000007 == -42"}, func(h hit) []result { return []result{b(h.big/1000000007 == -42)} }},
	{"unsigned-rsh", []string{"break f if (s->ubig >> 40) == 77"}, func(h hit) []result { return []result{b(h.ubig>>40 == 77)} }},
	{"bit-ops", []string{"break f if ((i & 0xf0) | (i ^ 0x5a)) == 0xfb"}, func(h hit) []result { return []result{b((h.i&0xf0)|(h.i^0x5a) == 0xfb)} }},
	{"string-char", []string{"break f if s->name[1] == 104"}, func(h hit) []result { return []result{b(h.name[1] == 'h')} }},
	{"short-mul", []string{"break f if s->s * 2 <= -3000"}, func(h hit) []result { return []result{b(int32(h.s)*2 <= -3000)} }},
	{"ternary", []string{"break f if i ? total > 10000 : 0"}, func(h hit) []result { return []result{b(h.i != 0 && h.total > 10000)} }},
	{"register", []string{"break f if $rdi == 150"}, func(h hit) []result { return []result{b(h.i == 150)} }},
	{"unsigned-less", []string{"break f if (unsigned) i < 10u"}, func(h hit) []result { return []result{b(uint32(h.i) < 10)} }},
	{"negate", []string{"break f if -i < -190"}, func(h hit) []result { return []result{b(-h.i < -190)} }},
	{"lsh", []string{"break f if i << 2 == 600"}, func(h hit) []result { return []result{b(h.i<<2 == 600)} }},
	{"div", []string{"break f if i / 3 == 50"}, func(h hit) []result { return []result{b(h.i/3 == 50)} }},
	{"unsigned-rem", []string{"break f if (unsigned) i % 4u == 1"}, func(h hit) []result { return []result{b(uint32(h.i)%4 == 1)} }},
	{"unsigned-div", []string{"break f if (unsigned) i / 3u == 60"}, func(h hit) []result { return []result{b(uint32(h.i)/3 == 60)} }},
	{"bit-not", []string{"break f if ~i == -151"}, func(h hit) []result { return []result{b(^h.i == -151)} }},
	{"log-not", []string{"break f if !flag"}, func(h hit) []result { return []result{b(h.flag == 0)} }},
	{"const64", []string{"break f if s->big < -100000000000LL"}, func(h hit) []result { return []result{b(h.big < -100000000000)} }},
	{"value", []string{"break f if i"}, func(h hit) []result { return []result{{value: int64(h.i)}} }},
	{"range", []string{"break f if i > 100 && i < 110 || i == 5"}, func(h hit) []result { return []result{b(h.i > 100 && h.i < 110 || h.i == 5)} }},
	{"pointer", []string{"break f if s == &counters[2]"}, func(h hit) []result { return []result{b(h.i&3 == 2)} }},
	{"long-mul", []string{"break f if (long) i * -1000000000000 < -190000000000000"}, func(h hit) []result { return []result{b(int64(h.i)*-1000000000000 < -190000000000000)} }},
	{"divide-by-zero", []string{"break f if 100 / (i - 150) == 0"}, func(h hit) []result {
		if h.i == 150 {
			return []result{{err: ErrDivideByZero}}
		}
		return []result{b(100/(h.i-150) == 0)}
	}},
	{"unreadable", []string{"break f if *(int *) 0 == 5"}, func(h hit) []result { return []result{{err: errMemory}} }},
	{"two-conditions", []string{"break f if i == 10", "break f if i == 20"}, func(h hit) []result {
		return []result{b(h.i == 10), b(h.i == 20)}
	}},
	{"dprintf", []string{`dprintf f,"i=%d count=%d name=%s\n", i, s->count, s->name`}, func(h hit) []result {
		return []result{printed("i=%d count=%d name=%s\n", h.i, h.count, h.name)}
	}},
	{"dprintf-formats", []string{`dprintf f,"%5d|%-5d|%05x|%#o|%c|%%|%lu|%lld|%hd|%u\n", i, s->count, i, i, 65 + (i & 15), s->ubig, s->big, s->s, -i`}, func(h hit) []result {
		return []result{printed("%5d|%-5d|%05x|%#o|%c|%%|%d|%d|%d|%d\n", h.i, h.count, h.i, h.i, 'A'+(h.i&15), h.ubig, h.big, h.s, uint32(-h.i))}
	}},
	{"dprintf-strings", []string{`dprintf f,"[%.3s][%-7s][%s]\n", s->name, label, (char *) 0`}, func(h hit) []result {
		return []result{printed("[%.3s][%-7s][(null)]\n", h.name, h.label)}
	}},
	{"dprintf-condition", []string{`dprintf f,"cond %d\n", i`, "condition 1 i == 7"}, func(h hit) []result {
		return []result{b(h.i == 7), printed("cond %d\n", h.i)}
	}},
}

// gdbVersion is gdb's first line; the goldens are gdb 13's.
func gdbVersion(t *testing.T) string {
	out, err := exec.Command("gdb", "--version").Output()
	if err != nil {
		t.Skip("gdb is not installed")
	}
	v, _, _ := strings.Cut(string(out), "\n")
	if !regexp.MustCompile(`\b13\.\d`).MatchString(v) {
		t.Skipf("the goldens are gdb 13's; this is %s", v)
	}
	return v
}

var zPacketRE = regexp.MustCompile(`Sending packet: \$(Z0,[0-9a-f]+,[0-9a-f]+;[^#]*)#`)

// captureZ0 runs gdb against GNU gdbserver with the case's commands,
// target-side conditions and agent dprintf, and returns the first Z0
// packet with conditions or commands that gdb sent.
func captureZ0(t *testing.T, gdbserver, prog string, cmds []string) string {
	srv := gdbtest.StartServer(t, gdbserver, "--once", "127.0.0.1:0", prog)
	args := []string{
		"set breakpoint condition-evaluation target",
		"set dprintf-style agent",
		"set debug remote 1",
		"file " + prog,
		"target remote " + srv.Addr(),
	}
	args = append(args, cmds...)
	args = append(args, "continue", "kill")
	out := gdbtest.Batch(t, args...)
	m := zPacketRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("gdb sent no Z0 packet with a condition or commands for %q:\n%s", cmds, out)
	}
	return m[1]
}

// session is an RSP client on GNU gdbserver running testdata/agent.c.
type session struct {
	t    *testing.T
	srv  *gdbtest.Proc
	cli  *rsp.Client
	conn net.Conn
	bp   string // the Z0 packet inserted
	at   bool   // stopped at it
}

func startSession(t *testing.T, gdbserver, prog string) *session {
	srv := gdbtest.StartServer(t, gdbserver, "--once", "127.0.0.1:0", prog)
	conn, err := net.DialTimeout("tcp", srv.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(gdbtest.Timeout))
	t.Cleanup(func() { conn.Close() })
	s := &session{t: t, srv: srv, cli: rsp.NewClient(conn), conn: conn}
	// As gdb opens: features (swbreak: gdbserver reports breakpoint
	// stops with the pc at the breakpoint), then the halt reason, which
	// makes gdbserver select the process a Z0 applies to.
	s.call("qSupported:swbreak+;vContSupported+")
	if err := s.cli.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	s.call("?")
	return s
}

func (s *session) call(payload string) []byte {
	s.t.Helper()
	if err := s.cli.SendPayload([]byte(payload)); err != nil {
		s.t.Fatal(err)
	}
	r, err := s.cli.Wait()
	if err != nil {
		s.t.Fatalf("%s: %v", payload, err)
	}
	return r.Payload
}

// insert inserts the breakpoint, Z0 packet given whole.
func (s *session) insert(z0 string) {
	s.t.Helper()
	if r := s.call(z0); string(r) != "OK" {
		s.t.Fatalf("%s: %q", z0, r)
	}
	s.bp = z0
}

// cont continues and says whether the program stopped at the breakpoint
// (false: it exited). From the breakpoint it first steps over it as gdb
// does: gdbserver does not step over a breakpoint gdb inserted and
// would stop at (linux-low.cc, thread_needs_step_over).
func (s *session) cont() bool {
	s.t.Helper()
	if s.at {
		head, _, _ := strings.Cut(s.bp, ";")
		if r := s.call("z" + head[1:]); string(r) != "OK" {
			s.t.Fatalf("z%s: %q", head[1:], r)
		}
		if stop, err := rsp.ParseStopReply(s.call("vCont;s")); err != nil || stop.Kind != rsp.StopSignal {
			s.t.Fatalf("step over the breakpoint: %+v, %v", stop, err)
		}
		s.insert(s.bp)
	}
	r := s.call("vCont;c")
	stop, err := rsp.ParseStopReply(r)
	if err != nil {
		s.t.Fatalf("stop reply %q: %v", r, err)
	}
	switch {
	case stop.Kind == rsp.StopExited && stop.ExitCode == 0:
		s.at = false
		return false
	case stop.Kind == rsp.StopSignal && stop.Signal == rsp.SignalTRAP && stop.Reason == rsp.ReasonSoftwareBreak:
		s.at = true
		return true
	}
	s.t.Fatalf("stop reply %q", r)
	return false
}

// ReadMemory and Register make a session the Context of an evaluation:
// m and p packets to gdbserver. Every read is recorded for the goldens.
type sessionCtx struct {
	s    *session
	regs map[int]uint64
	mem  fakeMem
	out  []byte
}

func (c *sessionCtx) ReadMemory(addr uint64, buf []byte) (int, error) {
	r := c.s.call(fmt.Sprintf("m%x,%x", addr, len(buf)))
	if _, ok := rsp.ParseErrorReply(r); ok {
		return 0, fmt.Errorf("gdbserver: %s", r)
	}
	data, err := rsp.DecodeHex(nil, r)
	if err != nil {
		return 0, err
	}
	n := copy(buf, data)
	c.mem = append(c.mem, segment{addr, data[:n]})
	if n < len(buf) {
		return n, fmt.Errorf("gdbserver read %d of %d bytes", n, len(buf))
	}
	return n, nil
}

func (c *sessionCtx) Register(n int) (uint64, error) {
	// gdbserver answers no p packet before gdb has read target.xml; the
	// g packet has the 64-bit registers first (rax ... r15, rip: gdb's
	// numbers 0 to 16), 8 bytes each.
	if n > 16 {
		return 0, fmt.Errorf("register %d is not one of the first 17", n)
	}
	r := c.s.call("g")
	data, err := rsp.DecodeHex(nil, r[:min(len(r), 17*16)])
	if err != nil || len(data) < 8*(n+1) {
		return 0, fmt.Errorf("g: %q: %v", r, err)
	}
	v := binary.LittleEndian.Uint64(data[8*n:])
	c.regs[n] = v
	return v, nil
}

func (c *sessionCtx) Print(text []byte) error {
	c.out = append(c.out, text...)
	return nil
}

// merge sorts and merges the recorded reads into the fewest segments.
func merge(m fakeMem) fakeMem {
	var out fakeMem
	for _, s := range m {
		done := false
		for k := range out {
			o := &out[k]
			if s.addr >= o.addr && s.addr <= o.addr+uint64(len(o.data)) {
				end := s.addr + uint64(len(s.data))
				if oe := o.addr + uint64(len(o.data)); end > oe {
					o.data = append(o.data, s.data[oe-s.addr:]...)
				}
				done = true
				break
			}
		}
		if !done {
			out = append(out, segment{s.addr, append([]byte(nil), s.data...)})
		}
	}
	return out
}

// TestGDB13 checks the interpreter against gdb 13 and GNU gdbserver on a
// real process:
//
//  1. gdb, with conditions evaluated by the target and agent dprintf,
//     sends GNU gdbserver for each case the Z0 packet of the goldens;
//  2. at each of the 200 calls of f (a plain breakpoint in gdbserver),
//     the package evaluates every case's bytecode on the stopped process
//     (memory and registers read with m and p packets) and gets the value
//     the C expression has there (hitAt and the case's want);
//  3. gdbserver given the same packet stops at exactly the hits where a
//     condition is true or fails to evaluate (its rule), and prints what
//     the package prints for the commands.
//
// With -update it rewrites the goldens; otherwise it fails where gdb now
// sends another packet than the goldens hold.
func TestGDB13(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gdb and gdbserver")
	}
	version := gdbVersion(t)
	gdbserver := gdbtest.GNUServer(t)
	prog := gdbtest.Program(t, "agent", "-no-pie")

	// 1. The packets gdb sends.
	packets := make([]string, len(gdbCases))
	t.Run("gdb", func(t *testing.T) {
		for k, c := range gdbCases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				packets[k] = captureZ0(t, gdbserver, prog, c.gdb)
			})
		}
	})
	if t.Failed() {
		return
	}
	var golden map[string]*goldenCase
	if !*update {
		golden = map[string]*goldenCase{}
		for _, g := range readGoldens(t) {
			golden[g.name] = g
		}
	}
	exprs := make([][]rsp.AgentExpr, len(gdbCases))
	nconds := make([]int, len(gdbCases))
	for k, c := range gdbCases {
		if !*update {
			if g := golden[c.name]; g == nil || g.packet != packets[k] {
				t.Errorf("%s: gdb (%s) sends %s\nthe goldens have %v; if gdb or gcc changed, run go test ./agentexpr -run TestGDB13 -update",
					c.name, version, packets[k], g)
			}
		}
		g := &goldenCase{packet: packets[k]}
		var err error
		if exprs[k], nconds[k], err = g.exprs(); err != nil {
			t.Fatalf("%s: rsp parses %q: %v", c.name, packets[k], err)
		}
		if n := len(c.want(hitAt(0))); n != len(exprs[k]) {
			t.Fatalf("%s: %d expressions in %s, the case expects %d", c.name, len(exprs[k]), packets[k], n)
		}
	}
	addr, _, _ := strings.Cut(strings.TrimPrefix(packets[0], "Z0,"), ";")

	// 2. The package at every hit, against the C values.
	var m Machine
	type record struct {
		got  []string
		regs map[int]uint64
		mem  fakeMem
	}
	records := make([][nHits]record, len(gdbCases))
	s := startSession(t, gdbserver, prog)
	s.insert("Z0," + addr)
	for i := 0; ; i++ {
		if !s.cont() {
			if i != nHits {
				t.Fatalf("the program exited after %d hits, want %d", i, nHits)
			}
			break
		}
		if i == nHits {
			t.Fatalf("more than %d hits", nHits)
		}
		h := hitAt(i)
		for k, c := range gdbCases {
			ctx := &sessionCtx{s: s, regs: map[int]uint64{}}
			got := evalAll(&m, exprs[k], nconds[k], ctx, func() []byte { return ctx.out })
			var want []string
			for _, w := range c.want(h) {
				want = append(want, w.String())
			}
			if strings.Join(got, " | ") != strings.Join(want, " | ") {
				t.Errorf("%s at i=%d: %s\nthe C value is %s", c.name, i, strings.Join(got, " | "), strings.Join(want, " | "))
			}
			records[k][i] = record{got, ctx.regs, merge(ctx.mem)}
		}
	}

	// 3. gdbserver with the same packets.
	for k, c := range gdbCases {
		t.Run("gdbserver/"+c.name, func(t *testing.T) {
			s := startSession(t, gdbserver, prog)
			s.insert(packets[k])
			var stops, want []int
			var wantOut bytes.Buffer
			for i := range nHits {
				rec := records[k][i]
				stop := false
				for _, g := range rec.got[:nconds[k]] {
					stop = stop || g != "0"
				}
				if nconds[k] == 0 {
					stop = true
				}
				for _, g := range rec.got[nconds[k]:] {
					var text string
					fmt.Sscanf(g, "%q", &text)
					wantOut.WriteString(text)
				}
				if nconds[k] < len(exprs[k]) {
					// gdbserver runs the commands of a breakpoint at
					// every hit, whatever its conditions, and reports
					// no stop (linux-low.cc, run_breakpoint_commands).
					stop = false
				}
				if stop {
					want = append(want, i)
				}
			}
			// Each stop of gdbserver is told by the value of i there,
			// which the "value" case computes.
			iExpr := exprs[caseIndex("value")][0]
			for s.cont() {
				ctx := &sessionCtx{s: s, regs: map[int]uint64{}}
				v, err := m.Eval(iExpr, ctx)
				if err != nil {
					t.Fatal(err)
				}
				stops = append(stops, int(v))
			}
			if c.name == "unreadable" {
				// gdbserver ignores the failed read and compares what
				// its buffer held; the package reports the error.
				t.Logf("gdbserver stopped at %d of %d hits on a read of address 0", len(stops), nHits)
				return
			}
			if fmt.Sprint(stops) != fmt.Sprint(want) {
				t.Errorf("gdbserver stopped at i in %v\nthe package's evaluation: %v", stops, want)
			}
			if wantOut.Len() > 0 {
				s.conn.Close() // gdbserver --once exits, its pipes close
				if _, err := s.srv.WaitExit(gdbtest.Timeout); err != nil {
					t.Fatal(err)
				}
				<-s.srv.Stdout.Done()
				got := strings.Join(s.srv.Stdout.All(), "\n") + "\n"
				if got != wantOut.String() {
					t.Errorf("gdbserver printed %d bytes, the package %d:\n%s\nthe package:\n%s", len(got), wantOut.Len(), head(got), head(wantOut.String()))
				}
			}
		})
	}

	if !*update || t.Failed() {
		return
	}
	// The goldens: hits 0, the first whose values differ from hit 0's,
	// and the last.
	var b strings.Builder
	fmt.Fprintf(&b, "# Agent expressions that %s sends GNU gdbserver for breakpoints on f in\n", version)
	b.WriteString("# testdata/agent.c (gcc -g -O0 -no-pie), with `set breakpoint\n")
	b.WriteString("# condition-evaluation target` and `set dprintf-style agent`, and for a few\n")
	b.WriteString("# hits the registers (rN=hex) and memory (mADDR=hex bytes) the expressions\n")
	b.WriteString("# read in the running program, with the value of each expression there\n")
	b.WriteString("# (conditions, then commands, as in the packet). Made by\n")
	b.WriteString("# `go test ./agentexpr -run TestGDB13 -update`; TestGoldens replays it.\n")
	for k, c := range gdbCases {
		fmt.Fprintf(&b, "\ncase %s\n", c.name)
		for _, g := range c.gdb {
			fmt.Fprintf(&b, "gdb %s\n", g)
		}
		fmt.Fprintf(&b, "packet %s\n", packets[k])
		for n, e := range exprs[k] {
			kind := "cond"
			if n >= nconds[k] {
				kind = "cmd"
			}
			fmt.Fprintf(&b, "%s %s\n", kind, Disassemble(e))
		}
		picks := []int{0}
		for i := 1; i < nHits; i++ {
			if strings.Join(records[k][i].got, "|") != strings.Join(records[k][0].got, "|") {
				picks = append(picks, i)
				break
			}
		}
		picks = append(picks, nHits-1)
		for _, i := range picks {
			r := records[k][i]
			fmt.Fprintln(&b, formatHit(i, r.regs, r.mem, r.got))
		}
	}
	if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func caseIndex(name string) int {
	for k, c := range gdbCases {
		if c.name == name {
			return k
		}
	}
	panic(name)
}

func head(s string) string {
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}
