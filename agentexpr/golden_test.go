package agentexpr

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/rsp"
)

// goldenFile holds the bytecode gdb 13 sent GNU gdbserver for the
// breakpoints and dprintfs of gdbCases (gdb_test.go) on testdata/agent.c,
// and, for a few hits of each, the registers and memory the expressions
// read in the real process with the value the C expression has there.
// TestGDB13 makes it (-update) and checks it against gdb and gdbserver;
// TestGoldens replays it without either.
const goldenFile = "testdata/gdb13.txt"

type goldenCase struct {
	name   string
	gdb    []string
	packet string   // the Z0 payload, as gdb sent it
	disasm []string // "cond ..." and "cmd ..." lines, in packet order
	hits   []goldenHit
}

type goldenHit struct {
	i    int
	regs map[int]uint64
	mem  fakeMem
	want []string // per expression: a value, a quoted printed text, or "error: ..."
}

// exprs returns the bytecode of the packet's conditions, then commands.
func (c *goldenCase) exprs() ([]rsp.AgentExpr, int, error) {
	var p rsp.Parser
	req, err := p.Parse([]byte(c.packet))
	if err != nil {
		return nil, 0, err
	}
	z, ok := req.(*rsp.InsertBreakpoint)
	if !ok {
		return nil, 0, fmt.Errorf("%q parses as %T", c.packet, req)
	}
	return append(append([]rsp.AgentExpr(nil), z.Conditions...), z.Commands...), len(z.Conditions), nil
}

func readGoldens(t testing.TB) []*goldenCase {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []*goldenCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, rest, _ := strings.Cut(text, " ")
		if key != "case" && len(cases) == 0 {
			t.Fatalf("%s:%d: %q before the first case", goldenFile, line, key)
		}
		var c *goldenCase
		if len(cases) > 0 {
			c = cases[len(cases)-1]
		}
		switch key {
		case "case":
			cases = append(cases, &goldenCase{name: rest})
		case "gdb":
			c.gdb = append(c.gdb, rest)
		case "packet":
			c.packet = rest
		case "cond", "cmd":
			c.disasm = append(c.disasm, text)
		case "hit":
			h, err := parseHit(rest)
			if err != nil {
				t.Fatalf("%s:%d: %v", goldenFile, line, err)
			}
			c.hits = append(c.hits, h)
		default:
			t.Fatalf("%s:%d: unknown line %q", goldenFile, line, key)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// parseHit parses "I rN=HEX ... mADDR=HEX ... => R1 | R2".
func parseHit(s string) (goldenHit, error) {
	h := goldenHit{regs: map[int]uint64{}}
	env, results, ok := strings.Cut(s, " => ")
	if !ok {
		return h, fmt.Errorf("no results in %q", s)
	}
	for n, tok := range strings.Fields(env) {
		if n == 0 {
			i, err := strconv.Atoi(tok)
			if err != nil {
				return h, err
			}
			h.i = i
			continue
		}
		k, v, ok := strings.Cut(tok[1:], "=")
		if !ok {
			return h, fmt.Errorf("bad %q", tok)
		}
		switch tok[0] {
		case 'r':
			n, err1 := strconv.Atoi(k)
			val, err2 := strconv.ParseUint(v, 16, 64)
			if err := errors.Join(err1, err2); err != nil {
				return h, err
			}
			h.regs[n] = val
		case 'm':
			addr, err1 := strconv.ParseUint(k, 16, 64)
			data, err2 := rsp.DecodeHex(nil, []byte(v))
			if err := errors.Join(err1, err2); err != nil {
				return h, err
			}
			h.mem = append(h.mem, segment{addr, data})
		default:
			return h, fmt.Errorf("bad %q", tok)
		}
	}
	for r := range strings.SplitSeq(results, " | ") {
		h.want = append(h.want, r)
	}
	return h, nil
}

func formatHit(i int, regs map[int]uint64, mem fakeMem, want []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hit %d", i)
	for _, n := range slices.Sorted(maps.Keys(regs)) {
		fmt.Fprintf(&b, " r%d=%x", n, regs[n])
	}
	for _, s := range mem {
		fmt.Fprintf(&b, " m%x=%x", s.addr, s.data)
	}
	return b.String() + " => " + strings.Join(want, " | ")
}

// resultString is how the goldens write an evaluation's outcome: a
// condition's value (signed decimal), a command's printed text (quoted),
// or the error.
func resultString(isCond bool, v uint64, out []byte, err error) string {
	var ee *EvalError
	switch {
	case errors.As(err, &ee):
		var me *MemoryError
		if errors.As(err, &me) {
			return fmt.Sprintf("error: memory at %#x", me.Addr)
		}
		return "error: " + ee.Err.Error()
	case err != nil:
		return "error: " + err.Error()
	case isCond:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.Quote(string(out))
}

// evalAll evaluates each expression as the server will: conditions with
// Eval, commands with Run.
func evalAll(m *Machine, exprs []rsp.AgentExpr, nconds int, ctx interface {
	Context
	Printer
}, printed func() []byte) []string {
	var res []string
	for k, e := range exprs {
		if k < nconds {
			v, err := m.Eval(e, ctx)
			res = append(res, resultString(true, v, nil, err))
			continue
		}
		before := len(printed())
		err := m.Run(e, ctx)
		res = append(res, resultString(false, 0, printed()[before:], err))
	}
	return res
}

// TestGoldens replays the goldens: the packets parse (rsp), their
// bytecode disassembles as recorded, and evaluated on the registers and
// memory recorded at each hit it gives the C value of the expression.
func TestGoldens(t *testing.T) {
	cases := readGoldens(t)
	if len(cases) < 20 {
		t.Fatalf("%d golden cases", len(cases))
	}
	var m Machine
	ops := map[Op]bool{}
	for _, c := range cases {
		exprs, nconds, err := c.exprs()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(exprs) != len(c.disasm) {
			t.Errorf("%s: %d expressions, %d disassembled", c.name, len(exprs), len(c.disasm))
			continue
		}
		for k, e := range exprs {
			kind := "cond "
			if k >= nconds {
				kind = "cmd "
			}
			if got := kind + Disassemble(e); got != c.disasm[k] {
				t.Errorf("%s: %s\nwant %s", c.name, got, c.disasm[k])
			}
			for pc := 0; pc < len(e); pc += 1 + Op(e[pc]).OperandSize() {
				ops[Op(e[pc])] = true
				if Op(e[pc]) == OpPrintf {
					break
				}
			}
		}
		if len(c.hits) == 0 {
			t.Errorf("%s: no hits", c.name)
		}
		for _, h := range c.hits {
			ctx := &fullCtx{bareCtx: bareCtx{mem: h.mem, regs: h.regs}}
			got := evalAll(&m, exprs, nconds, ctx, func() []byte { return ctx.out })
			if strings.Join(got, " | ") != strings.Join(h.want, " | ") {
				t.Errorf("%s at i=%d: %s\nwant %s", c.name, h.i, strings.Join(got, " | "), strings.Join(h.want, " | "))
			}
		}
	}
	var names []string
	for i := range 256 {
		if ops[Op(i)] {
			names = append(names, Op(i).String())
		}
	}
	t.Logf("%d cases; gdb 13 used %d bytecodes: %s", len(cases), len(names), strings.Join(names, " "))
}
