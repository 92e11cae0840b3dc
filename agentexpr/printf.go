package agentexpr

import (
	"bytes"
	"slices"
	"strconv"
)

// printf is gdbserver's ax_printf: the format as gdb sends it (the text
// between the quotes of the dprintf command, escapes not yet processed,
// terminated by a zero byte), and the values popped for it, first
// argument first.
//
// Its rules are gdb's format_pieces (gdbsupport/format.cc) without gdb's
// extensions: the escapes \\ \a \b \e \f \n \r \t \v \" and no other;
// flags "0-+ #", a width and a precision in digits (no '*'), the length
// modifiers h, l, ll, z (and L, H, D, DD, which only floating-point
// conversions take), and the conversions d i u o x X c s. Where
// format_pieces lets through what glibc's printf then reads as another
// type (%zc and %zs are %lc and %ls to glibc; %Hd, %Dd), the format is
// refused here. Each argument is
// converted as C converts it to the argument type gdbserver passes to
// printf: int (so %d of 0x100000001 prints 1), long, long long, size_t,
// or a string read from the target's memory, "(null)" for address 0.
// Floating-point, %p, %lc and %ls are refused, as gdbserver refuses them.
//
// Unlike gdbserver, every piece is checked before anything is printed, so
// a refused format prints nothing, and the text of one printf bytecode
// reaches the Printer in one Print. A printf whose text would take the
// evaluation's output past Machine.MaxOutput prints nothing and fails
// with ErrOutputLimit.
func (m *Machine) printf(ctx Context, format []byte, args []uint64) error {
	p, ok := ctx.(Printer)
	if !ok {
		return ErrNoPrinter
	}
	if len(format) == 0 || format[len(format)-1] != 0 {
		return formatError("unterminated format string in printf bytecode")
	}
	f, err := m.unescape(format)
	if err != nil {
		return err
	}
	n := 0
	for i := 0; i < len(f); {
		if f[i] != '%' {
			i++
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			i += 2
			continue
		}
		s, err := parseSpec(f, i)
		if err != nil {
			return err
		}
		if s.class == unsupported {
			return formatError("format directive in '" + string(f[i:s.end]) + "' not supported in agent printf")
		}
		n++
		i = s.end
	}
	if n != len(args) {
		return formatError("wrong number of arguments for specified format-string")
	}

	m.out = m.out[:0]
	budget := m.MaxOutput
	if budget <= 0 {
		budget = DefaultMaxOutput
	}
	budget -= m.printed
	arg := 0
	for i := 0; i < len(f); {
		if f[i] != '%' {
			m.out = append(m.out, f[i])
			i++
			continue
		}
		if f[i+1] == '%' { // pass 1 saw no '%' at the end
			m.out = append(m.out, '%')
			i += 2
			continue
		}
		s, _ := parseSpec(f, i)
		i = s.end
		if err := m.formatArg(ctx, s, args[arg], budget-len(m.out)); err != nil {
			return err
		}
		arg++
	}
	if len(m.out) > budget {
		return ErrOutputLimit
	}
	m.printed += len(m.out)
	if len(m.out) == 0 {
		return nil
	}
	return p.Print(m.out)
}

// formatError is gdbserver's reason for refusing a format, lower-cased.
func formatError(why string) error {
	return &formatErr{why}
}

type formatErr struct{ why string }

func (e *formatErr) Error() string { return ErrFormat.Error() + ": " + e.why }
func (e *formatErr) Unwrap() error { return ErrFormat }

// unescape copies the format up to its first zero byte or double quote
// into m.format, with its escapes processed.
func (m *Machine) unescape(format []byte) ([]byte, error) {
	f := m.format[:0]
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == 0 || c == '"' {
			break
		}
		if c != '\\' {
			f = append(f, c)
			continue
		}
		i++
		switch format[i] { // format ends with a zero byte: i is inside
		case '\\':
			c = '\\'
		case 'a':
			c = '\a'
		case 'b':
			c = '\b'
		case 'e':
			c = 0x1b
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'v':
			c = '\v'
		case '"':
			c = '"'
		default:
			m.format = f
			return nil, formatError("unrecognized escape character \\" + printable(format[i]) + " in format string")
		}
		f = append(f, c)
	}
	m.format = f
	return f, nil
}

func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(rune(c))
	}
	return `\x` + strconv.FormatUint(uint64(c)|0x100, 16)[1:]
}

// argClass is the C type gdbserver passes for a conversion.
type argClass uint8

const (
	intArg      argClass = iota // int
	longArg                     // long
	longLongArg                 // long long
	sizeArg                     // size_t (ssize_t for %zd)
	stringArg                   // char *, read from the target
	unsupported                 // double, pointer, wide: refused in agent printf
)

// Flags of a conversion.
const (
	flagMinus = 1 << iota
	flagPlus
	flagSpace
	flagHash
	flagZero
)

type spec struct {
	end   int // index after the conversion character
	flags uint8
	width int // -1: none
	prec  int // -1: none
	short bool
	conv  byte
	class argClass
}

// maxField saturates widths and precisions: any larger one is over the
// output limit anyway.
const maxField = 1 << 30

// parseSpec parses the conversion that starts with the '%' at f[i] (not
// "%%"), as format_pieces does.
func parseSpec(f []byte, i int) (spec, error) {
	s := spec{width: -1, prec: -1}
	i++
	for ; i < len(f); i++ {
		switch f[i] {
		case '-':
			s.flags |= flagMinus
			continue
		case '+':
			s.flags |= flagPlus
			continue
		case ' ':
			s.flags |= flagSpace
			continue
		case '#':
			s.flags |= flagHash
			continue
		case '0':
			s.flags |= flagZero
			continue
		}
		break
	}
	s.width, i = digits(f, i)
	if i < len(f) && f[i] == '.' {
		s.prec, i = digits(f, i+1)
		s.prec = max(s.prec, 0)
	}
	var lcount int
	var bigL, bigHD, size bool
	if i < len(f) {
		switch f[i] {
		case 'h':
			s.short = true
			i++
		case 'l':
			i++
			lcount++
			if i < len(f) && f[i] == 'l' {
				i++
				lcount++
			}
		case 'L':
			bigL = true
			i++
		case 'H':
			bigHD = true
			i++
		case 'D':
			bigHD = true
			i++
			if i < len(f) && f[i] == 'D' {
				i++
			}
		case 'z':
			size = true
			i++
		}
	}
	if i >= len(f) {
		return s, formatError("incomplete format specifier at end of format string")
	}
	s.conv = f[i]
	s.end = i + 1
	bad := false
	switch s.conv {
	case 'u', 'o', 'x', 'X', 'd', 'i':
		if s.conv == 'u' && s.flags&flagHash != 0 {
			bad = true
		}
		if s.conv != 'd' && s.conv != 'i' && s.flags&(flagSpace|flagPlus) != 0 {
			bad = true
		}
		switch {
		case size:
			s.class = sizeArg
		case lcount == 0:
			s.class = intArg
		case lcount == 1:
			s.class = longArg
		default:
			s.class = longLongArg
		}
		// format_pieces lets H and D through here, and glibc's printf
		// knows neither; refused.
		bad = bad || bigL || bigHD
	case 'c':
		s.class = intArg
		if lcount > 0 {
			s.class = unsupported // wide character
		}
		bad = lcount > 1 || s.short || bigL || s.prec >= 0 || s.flags&(flagZero|flagSpace|flagPlus) != 0
		// format_pieces lets z through; glibc reads %zc as %lc, a wide
		// character, which gdbserver refuses; so is it here.
		bad = bad || size || bigHD
	case 'p':
		s.class = unsupported
		bad = lcount > 0 || s.short || bigL || s.prec >= 0 || s.flags&(flagHash|flagZero|flagSpace|flagPlus) != 0
	case 's':
		s.class = stringArg
		if lcount > 0 {
			s.class = unsupported // wide string
		}
		bad = lcount > 1 || s.short || bigL || s.flags&(flagZero|flagSpace|flagPlus) != 0
		// As %zc: glibc reads %zs as %ls.
		bad = bad || size || bigHD
	case 'e', 'f', 'g', 'E', 'G':
		s.class = unsupported
		bad = lcount > 0 || s.short
	case '*':
		return s, formatError("`*' not supported for precision or width in printf")
	case 'n':
		return s, formatError("format specifier `n' not supported in printf")
	default:
		return s, formatError("unrecognized format specifier '" + printable(s.conv) + "' in printf")
	}
	if bad {
		return s, formatError("inappropriate modifiers to format specifier '" + string(rune(s.conv)) + "' in printf")
	}
	return s, nil
}

// digits reads a decimal number at f[i:]; -1 if there is none.
func digits(f []byte, i int) (int, int) {
	n := -1
	for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
		n = min(max(n, 0)*10+int(f[i]-'0'), maxField)
	}
	return n, i
}

// formatArg appends one conversion of v to m.out as glibc's printf
// formats it for the argument gdbserver passes. A field longer than room,
// what the output limit leaves, is ErrOutputLimit.
func (m *Machine) formatArg(ctx Context, s spec, v uint64, room int) error {
	switch s.conv {
	case 'c':
		if max(s.width, 1) > room {
			return ErrOutputLimit
		}
		m.pad(s, 1, true)
		m.out = append(m.out, byte(v))
		m.pad(s, 1, false)
		return nil
	case 's':
		str := nullString
		if v != 0 {
			limit := room + 1
			if s.prec >= 0 {
				limit = min(limit, s.prec)
			}
			var err error
			if str, err = m.readString(ctx, v, limit); err != nil {
				return err
			}
		} else if s.prec >= 0 && s.prec < len(str) {
			str = str[:s.prec]
		}
		if max(s.width, len(str)) > room {
			return ErrOutputLimit
		}
		m.pad(s, len(str), true)
		m.out = append(m.out, str...)
		m.pad(s, len(str), false)
		return nil
	}
	// An integer: reduce v to the C type printf gets, then take its sign.
	signed := s.conv == 'd' || s.conv == 'i'
	neg := false
	switch {
	case s.class == intArg && s.short:
		if signed {
			x := int16(v)
			neg, v = x < 0, uint64(int64(x))
		} else {
			v = uint64(uint16(v))
		}
	case s.class == intArg:
		if signed {
			x := int32(v)
			neg, v = x < 0, uint64(int64(x))
		} else {
			v = uint64(uint32(v))
		}
	default:
		neg = signed && int64(v) < 0
	}
	if neg {
		v = -v
	}
	var buf [24]byte
	d := buf[:0]
	if v != 0 || s.prec != 0 {
		base := 10
		switch s.conv {
		case 'o':
			base = 8
		case 'x', 'X':
			base = 16
		}
		d = strconv.AppendUint(d, v, base)
		if s.conv == 'X' {
			for i, c := range d {
				if c >= 'a' {
					d[i] = c - 'a' + 'A'
				}
			}
		}
	}
	var sign, prefix string
	switch {
	case neg:
		sign = "-"
	case signed && s.flags&flagPlus != 0:
		sign = "+"
	case signed && s.flags&flagSpace != 0:
		sign = " "
	}
	if s.flags&flagHash != 0 && v != 0 {
		switch s.conv {
		case 'x':
			prefix = "0x"
		case 'X':
			prefix = "0X"
		}
	}
	zeros := max(s.prec-len(d), 0)
	if s.conv == 'o' && s.flags&flagHash != 0 && zeros == 0 && (len(d) == 0 || d[0] != '0') {
		zeros = 1
	}
	n := len(sign) + len(prefix) + zeros + len(d)
	if s.flags&flagZero != 0 && s.flags&flagMinus == 0 && s.prec < 0 && s.width > n {
		zeros += s.width - n
		n = s.width
	}
	if max(s.width, n) > room {
		return ErrOutputLimit
	}
	m.pad(s, n, true)
	m.out = append(m.out, sign...)
	m.out = append(m.out, prefix...)
	for range zeros {
		m.out = append(m.out, '0')
	}
	m.out = append(m.out, d...)
	m.pad(s, n, false)
	return nil
}

var nullString = []byte("(null)")

// pad appends the spaces that bring a field of n bytes to the width: on
// the left (before) unless the field is left-justified.
func (m *Machine) pad(s spec, n int, before bool) {
	if (s.flags&flagMinus == 0) != before {
		return
	}
	for range s.width - n {
		m.out = append(m.out, ' ')
	}
}

// readString reads the string at addr, up to its zero byte or limit
// bytes, into m.str.
func (m *Machine) readString(ctx Context, addr uint64, limit int) ([]byte, error) {
	const chunk = 64
	str := m.str[:0]
	defer func() { m.str = str }()
	for len(str) < limit {
		want := min(chunk, limit-len(str))
		str = slices.Grow(str, want)
		buf := str[len(str) : len(str)+want]
		n, err := ctx.ReadMemory(addr+uint64(len(str)), buf)
		n = min(max(n, 0), want)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return str[:len(str)+i], nil
		}
		if n < want {
			if err == nil {
				err = errShortRead
			}
			return nil, &MemoryError{Addr: addr + uint64(len(str)+n), Len: 1, Err: err}
		}
		str = str[:len(str)+n]
	}
	return str, nil
}
