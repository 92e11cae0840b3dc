package server

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"gdbserverx/target"
)

// targetXML renders a target description as the single document gdb reads
// with qXfer:features:read:target.xml (GDB manual, "Target Description
// Format"). Every feature is inline, so gdb needs one object, not an
// xi:include per feature. Registers carry explicit regnum attributes: the
// same numbers the p/P packets and the expedited registers of stop replies
// use, from the one register table.
func targetXML(d *target.Description) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n")
	if d.Architecture != "" {
		fmt.Fprintf(&b, "  <architecture>%s</architecture>\n", esc(d.Architecture))
	}
	if d.OSABI != "" {
		fmt.Fprintf(&b, "  <osabi>%s</osabi>\n", esc(d.OSABI))
	}
	regs := d.Registers()
	n := 0
	for _, f := range d.Features {
		fmt.Fprintf(&b, "  <feature name=\"%s\">\n", esc(f.Name))
		for _, ty := range f.Types {
			writeType(&b, ty)
		}
		for range f.Registers {
			r := regs[n]
			n++
			fmt.Fprintf(&b, "    <reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"", esc(r.Name), r.Bits, esc(r.Type), r.Number)
			if r.Group != "" {
				fmt.Fprintf(&b, " group=\"%s\"", esc(r.Group))
			}
			b.WriteString("/>\n")
		}
		b.WriteString("  </feature>\n")
	}
	b.WriteString("</target>\n")
	return b.Bytes()
}

func writeType(b *bytes.Buffer, ty target.Type) {
	switch ty.Kind {
	case target.TypeVector:
		fmt.Fprintf(b, "    <vector id=\"%s\" type=\"%s\" count=\"%d\"/>\n", esc(ty.ID), esc(ty.Elem), ty.Count)
		return
	case target.TypeUnion:
		fmt.Fprintf(b, "    <union id=\"%s\">\n", esc(ty.ID))
	case target.TypeFlags:
		fmt.Fprintf(b, "    <flags id=\"%s\" size=\"%d\">\n", esc(ty.ID), ty.Size)
	case target.TypeStruct:
		fmt.Fprintf(b, "    <struct id=\"%s\" size=\"%d\">\n", esc(ty.ID), ty.Size)
	}
	for _, f := range ty.Fields {
		fmt.Fprintf(b, "      <field name=\"%s\"", esc(f.Name))
		if ty.Kind != target.TypeUnion {
			fmt.Fprintf(b, " start=\"%d\" end=\"%d\"", f.Start, f.End)
		}
		if f.Type != "" {
			fmt.Fprintf(b, " type=\"%s\"", esc(f.Type))
		}
		b.WriteString("/>\n")
	}
	switch ty.Kind {
	case target.TypeUnion:
		b.WriteString("    </union>\n")
	case target.TypeFlags:
		b.WriteString("    </flags>\n")
	case target.TypeStruct:
		b.WriteString("    </struct>\n")
	}
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
