package agentexpr

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// printfCase is one conversion and its argument: an integer, or a string
// (at strAddr in the fake memory; null prints "(null)").
type printfCase struct {
	format string // as the bytecode carries it, without its zero byte
	value  uint64
	str    string
	isStr  bool
	null   bool
}

const strAddr = 0x5000

// run assembles "push the argument, channel, function; printf; end" and
// runs it.
func (c printfCase) run(m *Machine) (string, error) {
	ctx := &fullCtx{}
	v := c.value
	if c.isStr {
		v = 0
		if !c.null {
			v = strAddr
			ctx.mem = fakeMem{{strAddr, append([]byte(c.str), 0)}}
		}
	}
	code := []byte{byte(OpConst64)}
	for i := 7; i >= 0; i-- {
		code = append(code, byte(v>>(8*i)))
	}
	code = append(code, byte(OpConst8), 0, byte(OpConst8), 0, byte(OpPrintf), 1)
	f := c.format + "\x00"
	code = append(code, byte(len(f)>>8), byte(len(f)))
	code = append(code, f...)
	code = append(code, byte(OpEnd))
	err := m.Run(code, ctx)
	return string(ctx.out), err
}

// cClass is the C type gdbserver passes for the conversion, read from
// the format's length modifier as format_pieces does, independently of
// the code under test.
func cClass(format string) byte {
	conv := format[len(format)-1]
	switch {
	case conv == 's':
		return 's'
	case strings.Contains(format, "ll"):
		return 'q'
	case strings.Contains(format, "l"):
		return 'l'
	case strings.Contains(format, "z"):
		return 'z'
	}
	return 'i'
}

// TestPrintfAgainstGlibc formats thousands of conversions, every flag,
// width, precision, length modifier and integer conversion that gdb's
// format parser accepts, with the real C library's printf (what
// gdbserver calls) in a C program, and with the package; the texts must
// be equal.
func TestPrintfAgainstGlibc(t *testing.T) {
	bin := gdbtest.CompileC(t, "testdata/printf.c")
	values := []uint64{0, 1, 7, 8, 42, 255, 256, 0x7fff, 0x8000, 0xffff, 0x12345, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000001, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, u(-42)}
	var cases []printfCase
	var parsed, refused int
	for _, flags := range []string{"", "-", "+", " ", "#", "0", "-0", "+0", " 0", "#0", "-#", "+ ", "-+0#"} {
		for _, width := range []string{"", "1", "6", "24"} {
			for _, prec := range []string{"", ".", ".0", ".1", ".5", ".22"} {
				for _, length := range []string{"", "h", "l", "ll", "z"} {
					for _, conv := range []string{"d", "i", "u", "o", "x", "X", "c", "s"} {
						f := "%" + flags + width + prec + length + conv
						if s, err := parseSpec([]byte(f), 0); err != nil || s.class == unsupported {
							refused++
							continue
						}
						parsed++
						if conv == "s" {
							for _, s := range []string{"", "a", "hello, world"} {
								cases = append(cases, printfCase{format: "<" + f + ">", str: s, isStr: true})
							}
							cases = append(cases, printfCase{format: "<" + f + ">", isStr: true, null: true})
							continue
						}
						for _, v := range values {
							cases = append(cases, printfCase{format: "<" + f + ">", value: v})
						}
					}
				}
			}
		}
	}
	var in bytes.Buffer
	for _, c := range cases {
		cls, val := cClass(c.format[:len(c.format)-1]), strconv.FormatUint(c.value, 16)
		if c.isStr {
			val = c.str
			if c.null {
				val = "(null)" // what gdbserver passes for address 0
			}
		}
		fmt.Fprintf(&in, "%c\t%s\t%s\n", cls, val, c.format)
	}
	cmd := exec.Command(bin)
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	want := strings.Split(string(out), "\x1e")
	if len(want) != len(cases)+1 {
		t.Fatalf("%d results from the C library for %d cases", len(want)-1, len(cases))
	}
	var m Machine
	bad := 0
	for i, c := range cases {
		got, err := c.run(&m)
		if err != nil || got != want[i] {
			if bad++; bad <= 20 {
				t.Errorf("printf(%q, %#x %q): %q, %v; the C library prints %q", c.format, c.value, c.str, got, err, want[i])
			}
		}
	}
	t.Logf("%d conversions accepted and compared on %d arguments (%d refused, as gdbserver refuses them); %d differ",
		parsed, len(cases), refused, bad)
}

func TestPrintfFormats(t *testing.T) {
	for _, tc := range []struct {
		format string
		args   []uint64
		mem    fakeMem
		want   string
		err    string
	}{
		{format: `i=%d count=%d name=%s\n`, args: []uint64{150, 38, 0x3000}, mem: fakeMem{{0x3000, []byte("two\x00")}},
			want: "i=150 count=38 name=two\n"},
		{format: `100%% %d%%`, args: []uint64{5}, want: "100% 5%"},
		{format: `\\ \a\b\e\f\n\r\t\v\"`, want: "\\ \a\b\x1b\f\n\r\t\v\""},
		{format: `stops at "quote %d`, want: "stops at "},
		{format: `%d`, args: []uint64{0x100000001}, want: "1"},
		{format: `%ld`, args: []uint64{0x100000001}, want: "4294967297"},
		{format: `%hd|%hu|%hx`, args: []uint64{0x18000, 0x18000, 0xffff8000}, want: "-32768|32768|8000"},
		{format: `%c%c`, args: []uint64{0x141, 'b'}, want: "Ab"},
		{format: `[%s]`, args: []uint64{0}, want: "[(null)]"},
		{format: `[%.3s]`, args: []uint64{0}, want: "[(nu]"},
		{format: `[%.3s]`, args: []uint64{0x3000}, mem: fakeMem{{0x3000, []byte("abcdef")}}, want: "[abc]"},
		{format: `[%s]`, args: []uint64{0x3000}, mem: fakeMem{{0x3000, []byte("abcdef")}}, err: "reading 1 bytes at 0x3006"},
		{format: `%d %d`, args: []uint64{1}, err: "wrong number of arguments for specified format-string"},
		{format: `%d`, args: []uint64{1, 2}, err: "wrong number of arguments for specified format-string"},
		{format: `%q`, args: []uint64{1}, err: "unrecognized format specifier 'q' in printf"},
		{format: `%`, err: "incomplete format specifier at end of format string"},
		{format: `%5`, args: []uint64{1}, err: "incomplete format specifier at end of format string"},
		{format: `%*d`, args: []uint64{1}, err: "`*' not supported for precision or width in printf"},
		{format: `%n`, args: []uint64{1}, err: "format specifier `n' not supported in printf"},
		{format: `%#u`, args: []uint64{1}, err: "inappropriate modifiers to format specifier 'u' in printf"},
		{format: `%+x`, args: []uint64{1}, err: "inappropriate modifiers to format specifier 'x' in printf"},
		{format: `%05s`, args: []uint64{1}, err: "inappropriate modifiers to format specifier 's' in printf"},
		{format: `%.2c`, args: []uint64{1}, err: "inappropriate modifiers to format specifier 'c' in printf"},
		{format: `%Ld`, args: []uint64{1}, err: "inappropriate modifiers to format specifier 'd' in printf"},
		{format: `%hhd`, args: []uint64{1}, err: "unrecognized format specifier 'h' in printf"},
		{format: `%f`, args: []uint64{1}, err: "format directive in '%f' not supported in agent printf"},
		{format: `%p`, args: []uint64{1}, err: "format directive in '%p' not supported in agent printf"},
		{format: `%ls`, args: []uint64{1}, err: "format directive in '%ls' not supported in agent printf"},
		{format: `%lc`, args: []uint64{1}, err: "format directive in '%lc' not supported in agent printf"},
		{format: `%I64d`, args: []uint64{1}, err: "unrecognized format specifier 'I' in printf"},
		{format: `a\qb`, err: "unrecognized escape character \\q in format string"},
		{format: `a\`, err: "unrecognized escape character \\\\x00 in format string"},
		{format: `ok %d then %f`, args: []uint64{1, 2}, err: "not supported in agent printf"},
	} {
		var m Machine
		ctx := &fullCtx{bareCtx: bareCtx{mem: tc.mem}}
		code := []byte(nil)
		for i := len(tc.args) - 1; i >= 0; i-- {
			code = append(code, mustAssemble(t, "const64 "+strconv.FormatUint(tc.args[i], 10))...)
		}
		code = append(code, mustAssemble(t, "const8 0; const8 0; printf "+strconv.Itoa(len(tc.args))+" "+strconv.Quote(tc.format+"\x00")+"; end")...)
		err := m.Run(code, ctx)
		switch {
		case tc.err == "" && (err != nil || string(ctx.out) != tc.want):
			t.Errorf("printf %q: %q, %v; want %q", tc.format, ctx.out, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("printf %q: %q, %v; want error %q", tc.format, ctx.out, err, tc.err)
		case tc.err != "" && len(ctx.out) != 0:
			t.Errorf("printf %q: printed %q before its error", tc.format, ctx.out)
		}
	}
}

func TestPrintfOutputLimit(t *testing.T) {
	m := Machine{MaxOutput: 10}
	run := func(text string) (string, error) {
		ctx := &fullCtx{bareCtx: bareCtx{mem: fakeMem{{0x3000, []byte("0123456789abcdef")}}}}
		err := m.Run(mustAssemble(t, text), ctx)
		return string(ctx.out), err
	}
	if out, err := run(`const8 0; const8 0; printf 0 "0123456789\x00"; end`); err != nil || out != "0123456789" {
		t.Errorf("10 bytes under a limit of 10: %q, %v", out, err)
	}
	for _, text := range []string{
		`const8 0; const8 0; printf 0 "0123456789a\x00"; end`,
		`const8 1; const8 0; const8 0; printf 1 "%11d\x00"; end`,
		`const8 1; const8 0; const8 0; printf 1 "%1000000000d\x00"; end`,
		`const8 1; const8 0; const8 0; printf 1 "%.1000000000d\x00"; end`,
		`const8 65; const8 0; const8 0; printf 1 "%-99999c\x00"; end`,
		`const16 0x3000; const8 0; const8 0; printf 1 "%s\x00"; end`,
		`const16 0x3000; const16 0x3000; const8 0; const8 0; printf 2 "%.5s%20s\x00"; end`,
		// The limit is per evaluation: five printf of 3 bytes.
		`const8 0; const8 0; printf 0 "abc\x00"; const8 0; const8 0; printf 0 "abc\x00"; const8 0; const8 0; printf 0 "abc\x00"; const8 0; const8 0; printf 0 "abc\x00"; end`,
	} {
		out, err := run(text)
		if !errors.Is(err, ErrOutputLimit) || len(out) > 10 {
			t.Errorf("%s: printed %d bytes, %v; want at most 10 and the output limit", text, len(out), err)
		}
	}
}
