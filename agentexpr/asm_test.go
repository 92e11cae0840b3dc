package agentexpr

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// opByName is the assembler's table: gdb's names, and op(0xNN) for any
// byte.
var opByName = func() map[string]Op {
	m := map[string]Op{}
	for i := range 256 {
		m[Op(i).String()] = Op(i)
	}
	return m
}()

// assemble is Disassemble's inverse, for hand-written tests: bytecodes by
// gdb name separated by ';', operands in decimal or 0x hex, printf's
// format as a Go string literal (its zero byte written out).
func assemble(text string) ([]byte, error) {
	var code []byte
	s := text
	for {
		s = strings.TrimLeft(s, " ;\n\t")
		if s == "" {
			return code, nil
		}
		end := strings.IndexAny(s, " ;")
		if end < 0 {
			end = len(s)
		}
		name := s[:end]
		s = s[end:]
		op, ok := opByName[name]
		if !ok {
			return nil, fmt.Errorf("unknown bytecode %q", name)
		}
		code = append(code, byte(op))
		n := op.OperandSize()
		if op == OpPrintf {
			n = 1
		}
		if n > 0 {
			s = strings.TrimLeft(s, " ")
			end := strings.IndexAny(s, " ;")
			if end < 0 {
				end = len(s)
			}
			v, err := strconv.ParseUint(s[:end], 0, 64)
			if err != nil || (n < 8 && v >= 1<<(8*n)) {
				return nil, fmt.Errorf("%s: bad operand %q", name, s[:end])
			}
			for i := n - 1; i >= 0; i-- {
				code = append(code, byte(v>>(8*i)))
			}
			s = s[end:]
		}
		if op == OpPrintf {
			s = strings.TrimLeft(s, " ")
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("printf: format: %v", err)
			}
			f, _ := strconv.Unquote(q)
			if len(f) > 0xffff {
				return nil, fmt.Errorf("printf: format of %d bytes", len(f))
			}
			code = append(code, byte(len(f)>>8), byte(len(f)))
			code = append(code, f...)
			s = s[len(q):]
		}
	}
}

func mustAssemble(t testing.TB, text string) []byte {
	t.Helper()
	code, err := assemble(text)
	if err != nil {
		t.Fatalf("assemble %q: %v", text, err)
	}
	return code
}

// fakeMem is a target's memory: segments of bytes. A read stops at the
// first byte outside them, as a read of a real process stops at an
// unmapped page.
type fakeMem []segment

type segment struct {
	addr uint64
	data []byte
}

var errUnmapped = fmt.Errorf("input/output error")

func (m fakeMem) ReadMemory(addr uint64, buf []byte) (int, error) {
	for i := range buf {
		b, ok := m.byteAt(addr + uint64(i))
		if !ok {
			return i, errUnmapped
		}
		buf[i] = b
	}
	return len(buf), nil
}

func (m fakeMem) byteAt(a uint64) (byte, bool) {
	for _, s := range m {
		if a >= s.addr && a-s.addr < uint64(len(s.data)) {
			return s.data[a-s.addr], true
		}
	}
	return 0, false
}

// bareCtx is a Context and nothing more: no variables, no collection, no
// printing.
type bareCtx struct {
	mem  fakeMem
	regs map[int]uint64
}

var errNoRegister = fmt.Errorf("no such register")

func (c *bareCtx) ReadMemory(addr uint64, buf []byte) (int, error) {
	return c.mem.ReadMemory(addr, buf)
}

func (c *bareCtx) Register(n int) (uint64, error) {
	v, ok := c.regs[n]
	if !ok {
		return 0, errNoRegister
	}
	return v, nil
}

// fullCtx has every optional interface and records what they were asked.
type fullCtx struct {
	bareCtx
	vars map[int]uint64
	log  []string
	out  []byte
}

func (c *fullCtx) Variable(n int) (uint64, error) {
	v, ok := c.vars[n]
	if !ok {
		return 0, fmt.Errorf("no variable %d", n)
	}
	return v, nil
}

func (c *fullCtx) SetVariable(n int, v uint64) error {
	if c.vars == nil {
		c.vars = map[int]uint64{}
	}
	c.vars[n] = v
	return nil
}

func (c *fullCtx) CollectMemory(addr, size uint64) error {
	c.log = append(c.log, fmt.Sprintf("memory %#x %d", addr, size))
	return nil
}

func (c *fullCtx) CollectString(addr, limit uint64) error {
	c.log = append(c.log, fmt.Sprintf("string %#x %d", addr, limit))
	return nil
}

func (c *fullCtx) CollectVariable(n int) error {
	c.log = append(c.log, fmt.Sprintf("variable %d", n))
	return nil
}

func (c *fullCtx) Print(text []byte) error {
	c.out = append(c.out, text...)
	return nil
}

func TestAssembleDisassemble(t *testing.T) {
	for _, text := range []string{
		"reg 6; const8 16; add; const8 236; ext 8; add; ref32; ext 32; const16 150; equal; end",
		`const8 0; const8 0; printf 0 "x=%d\\n\x00"; end`,
		"op(0x0); invalid2; op(0xff); const64 18446744073709551615",
	} {
		code := mustAssemble(t, text)
		if got := Disassemble(code); got != text {
			t.Errorf("Disassemble(assemble(%q)) = %q", text, got)
		}
	}
	for _, tc := range []struct {
		code []byte
		want string
	}{
		{[]byte{0x23, 0x01}, "const16 <truncated>"},
		{[]byte{0x34, 0x00, 0x00, 0x05, 'a'}, "printf <truncated>"},
		{[]byte{0x27, 0x34, 0x01}, "end; printf <truncated>"},
		{nil, ""},
	} {
		if got := Disassemble(tc.code); got != tc.want {
			t.Errorf("Disassemble(% x) = %q, want %q", tc.code, got, tc.want)
		}
	}
}
