package target

// Description is the register layout of a target, as data: the one table
// from which the server builds target.xml, the g/G packets, p/P and the
// registers expedited in stop replies. It follows GDB's target description
// model (GDB manual, "Target Descriptions"), without its XML.
type Description struct {
	Architecture string // "i386:x86-64"
	OSABI        string // "GNU/Linux"
	Features     []Feature

	regs []Register // all registers in order, with Offset and Number set
	size int
}

// Feature is one named group of registers ("org.gnu.gdb.i386.core").
type Feature struct {
	Name      string
	Types     []Type
	Registers []Register
}

// Register is one register. Number and Offset are set by Finish.
type Register struct {
	Name   string
	Bits   int
	Type   string // a GDB predefined type ("int64", "code_ptr", "i387_ext") or a Type's ID
	Group  string // "general", "float", "vector", "system", or ""
	Number int    // position in the whole description: the p/P and T index
	Offset int    // byte offset in the register file (ReadRegisters' buf)
}

// TypeKind says what kind of composite type a Type is.
type TypeKind int

// Type kinds, as in GDB's target description XML.
const (
	TypeVector TypeKind = iota // <vector id type count>
	TypeUnion                  // <union id> of fields with types
	TypeFlags                  // <flags id size> of bit fields
	TypeStruct                 // <struct id size> of bit fields
)

// Type is a composite type a feature defines for its registers.
type Type struct {
	Kind   TypeKind
	ID     string
	Size   int    // flags, struct: bytes
	Elem   string // vector: element type
	Count  int    // vector: element count
	Fields []Field
}

// Field is a member of a union, or a bit field of flags or a struct.
type Field struct {
	Name  string
	Type  string // union members, and typed bit fields ("bool", "uint32")
	Start int    // flags, struct: first bit
	End   int    // flags, struct: last bit, inclusive
}

// Finish numbers the registers, assigns offsets in order and returns d.
// Call it once, after the features are filled in.
func (d *Description) Finish() *Description {
	d.regs = d.regs[:0]
	off := 0
	for fi := range d.Features {
		f := &d.Features[fi]
		for ri := range f.Registers {
			r := &f.Registers[ri]
			r.Number = len(d.regs)
			r.Offset = off
			off += r.Bits / 8
			d.regs = append(d.regs, *r)
		}
	}
	d.size = off
	return d
}

// Registers lists every register in order.
func (d *Description) Registers() []Register { return d.regs }

// Size is the length of a whole register file in bytes.
func (d *Description) Size() int { return d.size }

// Lookup finds a register by name.
func (d *Description) Lookup(name string) (Register, bool) {
	for _, r := range d.regs {
		if r.Name == name {
			return r, true
		}
	}
	return Register{}, false
}
