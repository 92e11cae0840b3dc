//go:build ignore

// gen.go writes csvtable.go: for every opcode that x86asm decodes, whether a
// memory operand at each argument position is read, written or both. x86asm
// decodes operands but says nothing about what the instruction does with
// them; the instruction CSV that ships with golang.org/x/arch does.
//
// Run with go generate (see doc.go). The CSV is read from the module cache
// copy of golang.org/x/arch that go.mod pins, so the table changes only when
// that dependency does.
//
// Columns of x86.v0.2.csv used (x86csv.Inst field names):
//
//	Intel   "ADD r/m32, r32": the mnemonic and the operands in Intel order,
//	        which is also the order of x86asm.Inst.Args. An operand can be
//	        memory when one of its "/"-separated forms is m, mem, mib, mN...
//	        (m8, m128, m32fp, m16&64, m16:64, m512byte...) or moffsN.
//	Mode64  "V": the form is valid in 64-bit mode; other rows are skipped.
//	Tags    rows tagged "pseudo" are alternative spellings of another row
//	        and are skipped (the XCHG reg-first rows would otherwise clash).
//	Action  "rw,r": per operand, in Intel order, r read, w written,
//	        rw both, empty for none. Only the action of memory-capable
//	        operands is kept.
//
// What the CSV cannot give: implicit operands (the stack of PUSH, the
// RSI/RDI of string instructions, XSAVE areas), instructions newer than
// its 2015 SDM (AVX-512, SHA, mask-register instructions: those decoded by
// x86asm's XED-based AVX tables, and the AVX-512 memory forms of AVX
// instructions), and its own mistakes (SBB r/m "w", SETcc "r", DIV "w").
// The first and last are hand-written overrides in special.go; for the
// second, this program infers the action from the AVX convention that the
// first operand is the destination and the rest are sources, for
// positions the CSV leaves empty, and marks the entry as inferred.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/arch/x86/x86csv"
)

// aliases maps x86asm opcode names to the CSV's names for the same
// instruction where the two differ.
var aliases = map[string]string{
	"MOVSD_XMM":    "MOVSD",
	"CMPSD_XMM":    "CMPSD",
	"LCALL":        "CALL_FAR",
	"LJMP":         "JMP_FAR",
	"LRET":         "RET_FAR",
	"VPCMPESTRI64": "VPCMPESTRI",
	"VPCMPESTRM64": "VPCMPESTRM",
	"VPCMPISTRI64": "VPCMPISTRI",
	"VPCMPISTRM64": "VPCMPISTRM",
	"VPEXTRW_C5":   "VPEXTRW",
}

const (
	actR        = 1
	actW        = 2
	actInferred = 4
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	out := flag.String("o", "csvtable.go", "output file")
	csvPath := flag.String("csv", "", "x86.v0.2.csv (default: from the module cache)")
	flag.Parse()
	if *csvPath == "" {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/arch").Output()
		if err != nil {
			log.Fatalf("locate golang.org/x/arch: %v", err)
		}
		*csvPath = filepath.Join(strings.TrimSpace(string(dir)), "x86", "x86.v0.2.csv")
	}
	src, err := generate(*csvPath)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

type entry struct {
	acts     [4]uint8
	notes    [4]map[string]bool // CSV rows behind each position, for the comment
	conflict bool
}

func isMemForm(arg string) bool {
	for _, p := range strings.Split(arg, "/") {
		switch {
		case p == "m", p == "mem", p == "mib":
			return true
		case strings.HasPrefix(p, "moffs"):
			return true
		case len(p) > 1 && p[0] == 'm' && p[1] >= '0' && p[1] <= '9':
			return true
		}
	}
	return false
}

func generate(csvPath string) ([]byte, error) {
	byName, err := readCSV(csvPath)
	if err != nil {
		return nil, err
	}
	var table []opRow
	for op := x86asm.Op(1); op < 4096; op++ {
		name := op.String()
		if strings.HasPrefix(name, "Op(") {
			continue
		}
		if r, ok := rowFor(op, name, byName); ok {
			table = append(table, r)
		}
	}
	return render(csvPath, table)
}

// readCSV returns the CSV's rows valid in 64-bit mode, pseudo rows left
// out, by Intel mnemonic.
func readCSV(csvPath string) (map[string][]*x86csv.Inst, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := x86csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", csvPath, err)
	}
	byName := map[string][]*x86csv.Inst{}
	for _, r := range rows {
		if r.Mode64 != "V" || r.HasTag("pseudo") {
			continue
		}
		byName[r.IntelOpcode()] = append(byName[r.IntelOpcode()], r)
	}
	return byName, nil
}

// opRow is one opcode's entry in the table.
type opRow struct {
	op   x86asm.Op
	name string
	e    entry
	src  string // "csv", "inferred", "csv+inferred"
}

// rowFor is the entry of opcode op (named name by x86asm): the actions
// of the CSV's rows for it, and the inferred ones; false when no memory
// operand is known.
func rowFor(op x86asm.Op, name string, byName map[string][]*x86csv.Inst) (opRow, bool) {
	csvName := name
	if a, ok := aliases[name]; ok {
		csvName = a
	}
	var e entry
	src := ""
	if rs := byName[csvName]; len(rs) > 0 {
		for _, r := range rs {
			args := r.IntelArgs()
			var acts []string
			if r.Action != "" {
				acts = strings.Split(r.Action, ",")
			}
			for i, a := range args {
				if i >= 4 || !isMemForm(a) {
					continue
				}
				var act uint8
				if i < len(acts) {
					if strings.Contains(acts[i], "r") {
						act |= actR
					}
					if strings.Contains(acts[i], "w") {
						act |= actW
					}
				}
				if act == 0 {
					continue
				}
				if e.acts[i] != 0 && e.acts[i] != act {
					e.conflict = true
				}
				e.acts[i] |= act
				if e.notes[i] == nil {
					e.notes[i] = map[string]bool{}
				}
				e.notes[i][r.Intel+": "+r.Action] = true
				src = "csv"
			}
		}
	}
	if inferable(name) {
		// AVX-512 forms of AVX instructions take memory where the
		// VEX form does not (VPSRLQ zmm, m512, imm8): fill the
		// positions the CSV leaves empty by the convention.
		inferred := false
		for i := range e.acts {
			if e.acts[i] == 0 {
				e.acts[i] = actR | actInferred
				if i == 0 {
					e.acts[i] = actW | actInferred
				}
				inferred = true
			}
		}
		if src == "" {
			src = "inferred"
		} else if inferred {
			src = "csv+inferred"
		}
	}
	return opRow{op, name, e, src}, src != ""
}

// render writes csvtable.go's source.
func render(csvPath string, table []opRow) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by gen.go from %s; DO NOT EDIT.\n\n", filepath.Base(csvPath))
	b.WriteString("package insn\n\nimport \"golang.org/x/arch/x86/x86asm\"\n\n")
	b.WriteString("// csvTable gives, per x86asm opcode, the action on a memory operand at\n")
	b.WriteString("// argument positions 0-3 (Intel order, EVEX writemask removed). Zero: the\n")
	b.WriteString("// CSV has no memory form there. Entries marked inferred are AVX-512, SHA\n")
	b.WriteString("// and mask-register instructions newer than the CSV: the first operand\n")
	b.WriteString("// is written, the others read. Entries marked conflict disagree between\n")
	b.WriteString("// CSV rows and must have an override in special.go (a test checks).\n")
	b.WriteString("var csvTable = [...]memActs{\n")
	for _, r := range table {
		fmt.Fprintf(&b, "\tx86asm.%s: {", r.name)
		for i, a := range r.e.acts {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(actName(a))
		}
		b.WriteString("},")
		var notes []string
		for i := range r.e.notes {
			var ns []string
			for n := range r.e.notes[i] {
				ns = append(ns, n)
			}
			sort.Strings(ns)
			if len(ns) > 2 {
				ns = append(ns[:2], "...")
			}
			notes = append(notes, ns...)
		}
		switch {
		case r.src == "inferred":
			b.WriteString(" // inferred")
		case r.src == "csv+inferred":
			fmt.Fprintf(&b, " // %s; rest inferred", strings.Join(notes, "; "))
		case r.e.conflict:
			fmt.Fprintf(&b, " // conflict: %s", strings.Join(notes, "; "))
		default:
			fmt.Fprintf(&b, " // %s", strings.Join(notes, "; "))
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n\n")
	b.WriteString("// csvConflicts lists the opcodes whose CSV rows disagree.\n")
	b.WriteString("var csvConflicts = []x86asm.Op{\n")
	for _, r := range table {
		if r.e.conflict {
			fmt.Fprintf(&b, "\tx86asm.%s,\n", r.name)
		}
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// inferable reports whether name is an instruction newer than the CSV whose
// memory operand follows the VEX/EVEX convention: destination first.
func inferable(name string) bool {
	return strings.HasPrefix(name, "V") || strings.HasPrefix(name, "K") || strings.HasPrefix(name, "SHA")
}

func actName(a uint8) string {
	var s string
	switch a &^ actInferred {
	case 0:
		return "0"
	case actR:
		s = "actR"
	case actW:
		s = "actW"
	case actR | actW:
		s = "actRW"
	}
	if a&actInferred != 0 {
		s += " | actInferred"
	}
	return s
}
