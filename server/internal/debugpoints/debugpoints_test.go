package debugpoints

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/target"
)

// memory is a process's memory for the value checks: every byte reads
// as written with poke, 0 before.
type memory map[uint64]byte

func (m memory) ReadMemory(addr uint64, buf []byte) (int, error) {
	for i := range buf {
		buf[i] = m[addr+uint64(i)]
	}
	return len(buf), nil
}

// script drives a Set the way the server does, one step a line, and
// words what each step returned, so that a table can say what a sequence
// of Z, z, resumes and stops must give: the changes of each commit (with
// the facts of their notices), the plan given to the target (the slots
// its image arms, whether it is written, the emulated set, syscall
// stops), and the hits of a stop, by owner.
//
//	owner C [prio=N] [policy=emulate|suspend|error] [pin]
//	Z C KIND ADDR LEN      insert (KIND hbreak, watch, rwatch, awatch)
//	z C KIND ADDR LEN      remove (pending until the next plan)
//	plan                   Plan, then Applied: the target took it
//	nospace                the kernel refused a slot at the resume
//	later D                time passes (a Go duration)
//	leave C
//	poke ADDR HEX          the program (or the kernel) writes memory
//	debug DR6 [ID@ADDR...] a debug-exception stop (with the engine's
//	                       hits); DR6 is its bits joined by '+': B0-B3, BS
//	emulated ID@ADDR...    the engine's hits at a StopWatch
//	kernel                 a syscall-exit stop
//	points C               the client's debugpoints, as monitor slots shows them
type script struct {
	t    *testing.T
	d    *Set
	mem  memory
	now  time.Time
	cfgs map[int]arbiter.OwnerConfig
}

func (sc *script) run(line string) string {
	f := strings.Fields(line)
	switch f[0] {
	case "owner":
		id := sc.num(f[1])
		cfg := sc.cfgs[id]
		for _, opt := range f[2:] {
			switch k, v, _ := strings.Cut(opt, "="); k {
			case "prio":
				cfg.Priority = sc.num(v)
			case "policy":
				pol, err := arbiter.ParsePolicy(v)
				if err != nil {
					sc.t.Fatal(err)
				}
				cfg.Policy = pol
			case "pin":
				cfg.Pinned = true
			}
		}
		sc.cfgs[id] = cfg
		return changes(sc.d.SetOwner(id, cfg))
	case "Z":
		id := sc.num(f[1])
		chs, err := sc.d.Insert(id, sc.cfgs[id], sc.request(f[2:]))
		return join(errName(err), changes(chs))
	case "z":
		sc.d.Remove(sc.num(f[1]), sc.request(f[2:]))
		return ""
	case "plan":
		p, chs, err := sc.d.Plan(sc.now)
		if err != nil {
			sc.t.Fatal(err)
		}
		sc.d.Applied(p, sc.mem)
		return join(plan(p), changes(chs))
	case "nospace":
		n, ok := sc.d.NoSpace(sc.now)
		return fmt.Sprintf("capacity %d %v", n, ok)
	case "later":
		d, err := time.ParseDuration(f[1])
		if err != nil {
			sc.t.Fatal(err)
		}
		sc.now = sc.now.Add(d)
		return ""
	case "leave":
		return changes(sc.d.Leave(sc.num(f[1])))
	case "poke":
		b, err := hex.DecodeString(f[2])
		if err != nil {
			sc.t.Fatal(err)
		}
		for i, v := range b {
			sc.mem[uint64(sc.num(f[1])+i)] = v
		}
		return ""
	case "debug":
		step, hs := sc.d.DebugStop(sc.dr6(f[1]), sc.watchHits(f[2:]), sc.mem)
		if step {
			return join("step", hits(hs))
		}
		return hits(hs)
	case "emulated":
		return hits(sc.d.EmulatedHits(sc.watchHits(f[1:])))
	case "kernel":
		return hits(sc.d.KernelWrites(sc.mem))
	case "points":
		var out []string
		for p := range sc.d.Points(sc.num(f[1])) {
			s := fmt.Sprintf("%v %v slots %v hits %d", p.Request, p.State, p.Slots, p.Hits)
			if p.ValueCheck {
				s += " value-check"
			}
			out = append(out, s)
		}
		return strings.Join(out, "\n")
	}
	sc.t.Fatalf("unknown step %q", line)
	return ""
}

// num parses a number, 0x for hex.
func (sc *script) num(s string) int {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		sc.t.Fatalf("%q: %v", s, err)
	}
	return int(n)
}

// dr6 makes a DR6 value from hwbp's words: "B0+B1", "BS".
func (sc *script) dr6(s string) uint64 {
	var v uint64
	for _, b := range strings.Split(s, "+") {
		switch {
		case b == "BS":
			v |= hwbp.DR6SingleStep
		case len(b) == 2 && b[0] == 'B' && b[1] >= '0' && b[1] <= '3':
			v |= hwbp.DR6Hit(hwbp.Slot(b[1] - '0'))
		default:
			sc.t.Fatalf("DR6 bit %q", b)
		}
	}
	return v
}

func (sc *script) request(f []string) hwbp.Request {
	kind := map[string]hwbp.Kind{"hbreak": hwbp.KindExecute, "watch": hwbp.KindWrite, "rwatch": hwbp.KindRead, "awatch": hwbp.KindAccess}[f[0]]
	return hwbp.Request{Kind: kind, Addr: uint64(sc.num(f[1])), Len: uint64(sc.num(f[2]))}
}

func (sc *script) watchHits(f []string) []target.WatchHit {
	var out []target.WatchHit
	for _, s := range f {
		id, addr, _ := strings.Cut(s, "@")
		out = append(out, target.WatchHit{ID: uint64(sc.num(id)), Addr: uint64(sc.num(addr))})
	}
	return out
}

func errName(err error) string {
	for _, e := range []struct {
		err  error
		name string
	}{{ErrInvalid, "invalid"}, {ErrTooLong, "too long"}, {ErrLimit, "limit"}, {ErrRefused, "refused"}} {
		if errors.Is(err, e.err) {
			return e.name
		}
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// changes words a commit's changes, one a line:
// "c1 write 0x2000 len 4: absent -> installed (inserted) slots [0]".
func changes(chs []Change) string {
	var out []string
	for _, ch := range chs {
		who := fmt.Sprintf("c%d", ch.Owner.Client)
		if ch.Owner.Pair {
			who += " pair"
		}
		s := fmt.Sprintf("%s %v: %v -> %v (%v)", who, ch.Key, ch.Old, ch.New, ch.Cause)
		if ch.Cause == arbiter.CauseEvicted {
			s += fmt.Sprintf(" by c%d@%d", ch.By.Owner.Client, ch.By.Priority)
		}
		if ch.Slots != nil {
			s += fmt.Sprintf(" slots %v", ch.Slots)
		}
		if ch.TooLong {
			s += " too-long"
		}
		if ch.Holders != nil {
			var hs []string
			for _, h := range ch.Holders {
				hs = append(hs, fmt.Sprintf("c%d@%d", h.Client, h.Priority))
			}
			s += " held-by " + strings.Join(hs, ",")
		}
		if ch.Pinned {
			s += " pinned"
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

// plan words a plan: the slots its image arms (decoded back from DR0-3
// and DR7), whether the image is given to the target, the emulated set,
// the syscall-exit stops.
func plan(p Plan) string {
	sl, err := p.Image.Decode()
	if err != nil {
		return "bad image: " + err.Error()
	}
	var slots []string
	for _, pc := range sl {
		if pc == (hwbp.Piece{}) {
			slots = append(slots, "-")
			continue
		}
		slots = append(slots, pc.String())
	}
	s := "slots [" + strings.Join(slots, ", ") + "]"
	if p.ImageChanged {
		s += " written"
	}
	for _, w := range p.Watches {
		s += fmt.Sprintf("\nemulated %d: %v %#x len %d", w.ID, w.Kind, w.Addr, w.Len)
	}
	if p.SyscallsChanged {
		s += fmt.Sprintf("\nsyscall exits %v", p.SyscallExits)
	}
	return s
}

// hits words hits: "c1 write 0x2000".
func hits(hs []Hit) string {
	var out []string
	for _, h := range hs {
		out = append(out, fmt.Sprintf("c%d %v %#x", h.Client, h.Kind, h.Addr))
	}
	return strings.Join(out, "\n")
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n")
}

// step is one line of a script and what it must give.
type step struct {
	do, want string
}

// TestSet runs each scenario's steps and checks what each gave.
func TestSet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		steps []step
	}{
		{"a Z goes into hardware at once; a resume writes its image once", Options{SyscallExits: true}, []step{
			{"Z 1 watch 0x2000 4", "ok\nc1 write 0x2000 len 4: absent -> installed (inserted) slots [0]"},
			{"plan", "slots [write 0x2000 len 4, -, -, -] written\nsyscall exits true"},
			// gdb's churn at a stop: z then Z of the same point.
			{"z 1 watch 0x2000 4", ""},
			{"Z 1 watch 0x2000 4", "ok"},
			{"plan", "slots [write 0x2000 len 4, -, -, -]"},
			// Inserted twice is one.
			{"Z 1 watch 0x2000 4", "ok"},
			{"points 1", "write 0x2000 len 4 installed slots [0] hits 0"},
		}},
		{"a z takes effect at the next resume", Options{SyscallExits: true}, []step{
			{"Z 1 awatch 0x2000 8", "ok\nc1 access 0x2000 len 8: absent -> installed (inserted) slots [0]"},
			{"plan", "slots [access 0x2000 len 8, -, -, -] written\nsyscall exits true"},
			{"z 1 awatch 0x2000 8", ""},
			{"points 1", "access 0x2000 len 8 installed slots [0] hits 0"},
			{"plan", "slots [-, -, -, -] written\nsyscall exits false\nc1 access 0x2000 len 8: installed -> absent (removed)"},
			{"points 1", ""},
		}},
		{"a higher priority evicts the most recent lower point into the engine", Options{Emulation: true}, []step{
			{"owner 1 prio=10", ""},
			{"owner 2 prio=20", ""},
			{"Z 1 watch 0x2000 8", "ok\nc1 write 0x2000 len 8: absent -> installed (inserted) slots [0]"},
			{"Z 1 watch 0x2008 8", "ok\nc1 write 0x2008 len 8: absent -> installed (inserted) slots [1]"},
			{"Z 1 watch 0x2010 8", "ok\nc1 write 0x2010 len 8: absent -> installed (inserted) slots [2]"},
			{"Z 1 watch 0x2018 8", "ok\nc1 write 0x2018 len 8: absent -> installed (inserted) slots [3]"},
			{"Z 2 watch 0x3000 4", "ok\nc2 write 0x3000 len 4: absent -> installed (inserted) slots [3]\nc1 write 0x2018 len 8: installed -> emulated (evicted) by c2@20"},
			{"plan", "slots [write 0x2000 len 8, write 0x2008 len 8, write 0x2010 len 8, write 0x3000 len 4] written\nemulated 1: write 0x2018 len 8"},
			// The engine reports its hit by the number it was given.
			{"emulated 1@0x201c", "c1 write 0x201c"},
			{"points 1", "write 0x2000 len 8 installed slots [0] hits 0\nwrite 0x2008 len 8 installed slots [1] hits 0\nwrite 0x2010 len 8 installed slots [2] hits 0\nwrite 0x2018 len 8 emulated slots [] hits 1"},
			// Its holder leaves: the slot comes back at once.
			{"leave 2", "c2 write 0x3000 len 4: installed -> absent (owner left)\nc1 write 0x2018 len 8: emulated -> installed (owner left) slots [3]"},
			{"plan", "slots [write 0x2000 len 8, write 0x2008 len 8, write 0x2010 len 8, write 0x2018 len 8] written"},
		}},
		{"a new point with no free slot names who holds them", Options{Emulation: true}, []step{
			{"owner 1 prio=10", ""},
			{"owner 2 prio=20", ""},
			{"Z 2 watch 0x2000 8", "ok\nc2 write 0x2000 len 8: absent -> installed (inserted) slots [0]"},
			{"Z 2 watch 0x2008 8", "ok\nc2 write 0x2008 len 8: absent -> installed (inserted) slots [1]"},
			{"Z 1 watch 0x3000 8", "ok\nc1 write 0x3000 len 8: absent -> installed (inserted) slots [2]"},
			{"Z 2 watch 0x2010 8", "ok\nc2 write 0x2010 len 8: absent -> installed (inserted) slots [3]"},
			{"Z 1 watch 0x4000 8", "ok\nc1 write 0x4000 len 8: absent -> emulated (inserted) held-by c2@20,c1@10"},
			// Under suspend, kept inactive; the engine is not given it.
			{"owner 1 policy=suspend", "c1 write 0x4000 len 8: emulated -> suspended (policy changed)"},
			{"plan", "slots [write 0x2000 len 8, write 0x2008 len 8, write 0x3000 len 8, write 0x2010 len 8] written"},
			// Raising the priority takes a slot from client 2's latest.
			{"owner 1 prio=30", "c1 write 0x4000 len 8: suspended -> installed (priority raised) slots [3]\nc2 write 0x2010 len 8: installed -> emulated (evicted) by c1@30"},
		}},
		{"a range longer than the slots hold is emulated, or refused", Options{Emulation: true}, []step{
			{"Z 1 watch 0x3000 4096", "ok\nc1 write 0x3000 len 4096: absent -> emulated (inserted) too-long"},
			{"plan", "slots [-, -, -, -]\nemulated 1: write 0x3000 len 4096"},
			{"owner 2 policy=error", ""},
			{"Z 2 watch 0x3000 4096", "refused"},
			{"Z 2 watch 0x3000 0x100001", "too long"},
			{"Z 2 watch 0x3000 0", "invalid"},
		}},
		{"a hardware breakpoint without a slot is refused", Options{Emulation: true}, []step{
			{"owner 2 prio=20", ""},
			{"Z 2 watch 0x2000 8", "ok\nc2 write 0x2000 len 8: absent -> installed (inserted) slots [0]"},
			{"Z 2 watch 0x2008 8", "ok\nc2 write 0x2008 len 8: absent -> installed (inserted) slots [1]"},
			{"Z 2 watch 0x2010 8", "ok\nc2 write 0x2010 len 8: absent -> installed (inserted) slots [2]"},
			{"Z 2 watch 0x2018 8", "ok\nc2 write 0x2018 len 8: absent -> installed (inserted) slots [3]"},
			{"Z 1 hbreak 0x401000 1", "refused\nc1 execute 0x401000 len 1: absent -> emulated (inserted) held-by c2@20\nc1 execute 0x401000 len 1: emulated -> absent (removed)"},
			{"points 1", ""},
		}},
		{"a pinned point that does not fit is refused", Options{Emulation: true}, []step{
			{"owner 2 prio=20 pin", ""},
			{"Z 2 watch 0x2000 8", "ok\nc2 write 0x2000 len 8: absent -> installed (inserted) slots [0]"},
			{"Z 2 watch 0x2008 8", "ok\nc2 write 0x2008 len 8: absent -> installed (inserted) slots [1]"},
			{"Z 2 watch 0x2010 8", "ok\nc2 write 0x2010 len 8: absent -> installed (inserted) slots [2]"},
			{"Z 2 watch 0x2018 8", "ok\nc2 write 0x2018 len 8: absent -> installed (inserted) slots [3]"},
			{"Z 2 watch 0x2020 8", "refused\nc2 write 0x2020 len 8: absent -> refused (inserted) pinned"},
		}},
		{"the kernel refuses a slot: one less, tried again later", Options{Emulation: true}, []step{
			{"Z 1 watch 0x2000 8", "ok\nc1 write 0x2000 len 8: absent -> installed (inserted) slots [0]"},
			{"Z 1 watch 0x2008 8", "ok\nc1 write 0x2008 len 8: absent -> installed (inserted) slots [1]"},
			{"Z 1 watch 0x2010 8", "ok\nc1 write 0x2010 len 8: absent -> installed (inserted) slots [2]"},
			{"Z 1 watch 0x2018 8", "ok\nc1 write 0x2018 len 8: absent -> installed (inserted) slots [3]"},
			{"plan", "slots [write 0x2000 len 8, write 0x2008 len 8, write 0x2010 len 8, write 0x2018 len 8] written"},
			{"nospace", "capacity 3 true"},
			{"plan", "slots [write 0x2000 len 8, write 0x2008 len 8, write 0x2010 len 8, -] written\nemulated 1: write 0x2018 len 8\nc1 write 0x2018 len 8: installed -> emulated (capacity shrank)"},
			{"later 500ms", ""},
			{"plan", "slots [write 0x2000 len 8, write 0x2008 len 8, write 0x2010 len 8, -]\nemulated 1: write 0x2018 len 8"},
			{"later 600ms", ""},
			{"plan", "slots [write 0x2000 len 8, write 0x2008 len 8, write 0x2010 len 8, write 0x2018 len 8] written\nc1 write 0x2018 len 8: emulated -> installed (capacity grew) slots [3]"},
		}},
		{"DR6 names the slots that fired; identical pieces are shared", Options{}, []step{
			{"Z 1 watch 0x2000 4", "ok\nc1 write 0x2000 len 4: absent -> installed (inserted) slots [0]"},
			{"Z 2 watch 0x2000 4", "ok\nc2 write 0x2000 len 4: absent -> installed (inserted) slots [0]"},
			{"Z 2 awatch 0x3000 8", "ok\nc2 access 0x3000 len 8: absent -> installed (inserted) slots [1]"},
			{"plan", "slots [write 0x2000 len 4, access 0x3000 len 8, -, -] written"},
			{"debug B0", "c1 write 0x2000\nc2 write 0x2000"},
			{"debug B0+B1", "c1 write 0x2000\nc2 write 0x2000\nc2 access 0x3000"},
			// BS alone: a step, no hit; B2 of a slot not enabled counts
			// for nothing.
			{"debug BS", "step"},
			{"debug BS+B2", "step"},
			{"points 2", "write 0x2000 len 4 installed slots [0] hits 2\naccess 0x3000 len 8 installed slots [1] hits 1"},
		}},
		{"a read watchpoint's write pair tells a read from a write", Options{}, []step{
			{"Z 1 rwatch 0x2000 4", "ok\nc1 read 0x2000 len 4: absent -> installed (inserted) slots [0]\nc1 pair read 0x2000 len 4: absent -> installed (inserted) slots [1]"},
			{"plan", "slots [access 0x2000 len 4, write 0x2000 len 4, -, -] written"},
			{"debug B0", "c1 read 0x2000"},
			{"debug B0+B1", ""},
			// The pair gives way first when the slots are needed; the
			// read watchpoint then falls back to a value check.
			{"owner 2 prio=5", ""},
			{"Z 2 watch 0x5000 8", "ok\nc2 write 0x5000 len 8: absent -> installed (inserted) slots [2]"},
			{"Z 2 watch 0x5008 8", "ok\nc2 write 0x5008 len 8: absent -> installed (inserted) slots [3]"},
			{"Z 2 watch 0x5010 8", "ok\nc2 write 0x5010 len 8: absent -> installed (inserted) slots [1]\nc1 pair read 0x2000 len 4: installed -> suspended (evicted) by c2@5"},
			{"plan", "slots [access 0x2000 len 4, write 0x5010 len 8, write 0x5000 len 8, write 0x5008 len 8] written"},
			{"points 1", "read 0x2000 len 4 installed slots [0] hits 1 value-check"},
			{"debug B0", "c1 read 0x2000"},
			{"poke 0x2001 aa", ""},
			{"debug B0", ""},
		}},
		{"a widened write piece reports only a change inside the range", Options{}, []step{
			{"Z 1 watch 0x2001 2", "ok\nc1 write 0x2001 len 2: absent -> installed (inserted) slots [0]"},
			{"plan", "slots [write 0x2000 len 4, -, -, -] written"},
			{"poke 0x2003 11", ""},
			{"debug B0", ""},
			{"poke 0x2002 22", ""},
			{"debug B0", "c1 write 0x2002"},
			// The trapped store is accounted for.
			{"debug B0", ""},
		}},
		{"the kernel's writes are found at a syscall exit", Options{SyscallExits: true}, []step{
			{"Z 1 watch 0x2000 8", "ok\nc1 write 0x2000 len 8: absent -> installed (inserted) slots [0]"},
			{"Z 1 rwatch 0x3000 4", "ok\nc1 read 0x3000 len 4: absent -> installed (inserted) slots [1]\nc1 pair read 0x3000 len 4: absent -> installed (inserted) slots [2]"},
			{"plan", "slots [write 0x2000 len 8, access 0x3000 len 4, write 0x3000 len 4, -] written\nsyscall exits true"},
			{"kernel", ""},
			{"poke 0x2004 ff", ""},
			{"poke 0x3000 ff", ""},
			{"kernel", "c1 write 0x2004"},
			{"kernel", ""},
		}},
		{"a client that leaves leaves nothing", Options{Emulation: true}, []step{
			{"owner 1 policy=emulate", ""},
			{"Z 1 watch 0x3000 4096", "ok\nc1 write 0x3000 len 4096: absent -> emulated (inserted) too-long"},
			{"Z 1 rwatch 0x2000 4", "ok\nc1 read 0x2000 len 4: absent -> installed (inserted) slots [0]\nc1 pair read 0x2000 len 4: absent -> installed (inserted) slots [1]"},
			{"plan", "slots [access 0x2000 len 4, write 0x2000 len 4, -, -] written\nemulated 1: write 0x3000 len 4096"},
			{"z 1 rwatch 0x2000 4", ""},
			{"leave 1", "c1 write 0x3000 len 4096: emulated -> absent (owner left)\nc1 read 0x2000 len 4: installed -> absent (owner left)\nc1 pair read 0x2000 len 4: installed -> absent (owner left)"},
			// The engine's number is forgotten: a late hit is no one's.
			{"emulated 1@0x3000", ""},
			{"plan", "slots [-, -, -, -] written"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &script{t: t, d: New(tc.opts), mem: memory{}, now: time.Unix(1e9, 0), cfgs: map[int]arbiter.OwnerConfig{}}
			for i, st := range tc.steps {
				if got := sc.run(st.do); got != st.want {
					t.Fatalf("step %d, %s:\n got %q\nwant %q", i, st.do, got, st.want)
				}
			}
			for id := range sc.cfgs {
				sc.d.Leave(id)
			}
			for _, id := range []int{1, 2} {
				sc.d.Leave(id)
				if sc.d.Knows(id) {
					t.Errorf("client %d left, and the set still knows it", id)
				}
			}
		})
	}
}

// TestLimits: a client may hold MaxPoints debugpoints and MaxBytes
// watched bytes; a Z past them gets ErrLimit, a pending z makes room, and
// the counts follow the commits (read watchpoints' pairs not counted).
func TestLimits(t *testing.T) {
	d := New(Options{Emulation: true})
	cfg := arbiter.OwnerConfig{Policy: arbiter.PolicyEmulate}
	for _, r := range []hwbp.Request{{Kind: hwbp.KindWrite, Addr: 0x2000, Len: 8}, {Kind: hwbp.KindRead, Addr: 0x3000, Len: 4}, {Kind: hwbp.KindAccess, Addr: 0x4000, Len: 8}} {
		if _, err := d.Insert(1, cfg, r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := d.tallies[1], (tally{points: 3, bytes: 8 + 4 + 8}); got != want {
		t.Errorf("after three Z: %+v, want %+v", got, want)
	}
	// Up to the byte limit: one more byte is refused.
	big := hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x10000, Len: MaxBytes - 20}
	for big.Len > 0 {
		r := big
		r.Len = min(r.Len, 1<<20)
		if _, err := d.Insert(1, cfg, r); err != nil {
			t.Fatalf("%v: %v", r, err)
		}
		big.Addr += r.Len
		big.Len -= r.Len
	}
	one := hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x5000, Len: 1}
	if _, err := d.Insert(1, cfg, one); !errors.Is(err, ErrLimit) {
		t.Fatalf("a byte past MaxBytes: %v, want ErrLimit", err)
	}
	// A pending z makes room at once; the Z then applies it.
	d.Remove(1, hwbp.Request{Kind: hwbp.KindAccess, Addr: 0x4000, Len: 8})
	if _, err := d.Insert(1, cfg, one); err != nil {
		t.Fatalf("after a z: %v", err)
	}
	if got := d.tallies[1].bytes; got != MaxBytes-8+1 {
		t.Errorf("bytes %d, want %d", got, MaxBytes-8+1)
	}
	// The point limit, for another client.
	for i := range MaxPoints {
		if _, err := d.Insert(2, cfg, hwbp.Request{Kind: hwbp.KindWrite, Addr: 0x100000 + 8*uint64(i), Len: 1}); err != nil {
			t.Fatalf("point %d: %v", i, err)
		}
	}
	if _, err := d.Insert(2, cfg, one); !errors.Is(err, ErrLimit) {
		t.Errorf("point %d: %v, want ErrLimit", MaxPoints+1, err)
	}
	d.Leave(1)
	d.Leave(2)
	if len(d.tallies) != 0 || d.Knows(1) || d.Knows(2) {
		t.Errorf("after the clients left: %v", d.tallies)
	}
}
