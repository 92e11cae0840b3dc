package insn

import (
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything insn's own code may import: the x86
// decoder, pure computation, and internal/x86cpu, which says what the CPU
// is (CPUID and XGETBV, read once; the XSAVE layout and the vendor,
// where what an instruction touches depends on them). No other project
// package (registers cross through the package's own Registers
// interface), no ptrace, no I/O. Adding to this list is a design change
// (STYLE.md section 1).
var allowedImports = map[string]bool{
	"errors":                       true,
	"fmt":                          true,
	"math/bits":                    true,
	"strings":                      true,
	"golang.org/x/arch/x86/x86asm": true,
	"gdbserverx/internal/x86cpu":   true,
}

func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if ignored(f.Comments) {
			continue // gen.go, the go:generate program
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowedImports[path] {
				t.Errorf("%s imports %q; insn is a pure decoder (allowed: %v)", name, path, allowedImports)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files found")
	}
}

func ignored(groups []*ast.CommentGroup) bool {
	for _, g := range groups {
		for _, c := range g.List {
			if constraint.IsGoBuild(c.Text) {
				if e, err := constraint.Parse(c.Text); err == nil && e.String() == "ignore" {
					return true
				}
			}
		}
	}
	return false
}
