package hwbp

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything hwbp's own code may import: pure computation
// from the standard library. No project package (not even target: debug
// registers cross as plain values), no ptrace, no I/O. Adding to this list
// is a design change (STYLE.md section 1), not a build fix.
var allowedImports = map[string]bool{
	"errors":    true,
	"fmt":       true,
	"iter":      true,
	"math":      true,
	"math/bits": true,
	"strings":   true,
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
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowedImports[path] {
				t.Errorf("%s imports %q; hwbp is pure x86 math (allowed: %v)", name, path, allowedImports)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files found")
	}
}

// TestImageShape pins Image to the shape of target.DebugRegisters
// (struct{ Addr [4]uint64; Control uint64 }) so that the server converts one
// into the other with a plain conversion, without hwbp importing target.
func TestImageShape(t *testing.T) {
	typ := reflect.TypeFor[Image]()
	want := []struct {
		name string
		typ  reflect.Type
	}{
		{"Addr", reflect.TypeFor[[4]uint64]()},
		{"Control", reflect.TypeFor[uint64]()},
	}
	if typ.NumField() != len(want) {
		t.Fatalf("Image has %d fields, want %d", typ.NumField(), len(want))
	}
	for i, w := range want {
		if f := typ.Field(i); f.Name != w.name || f.Type != w.typ || f.Tag != "" {
			t.Errorf("field %d is %s %v %q, want %s %v", i, f.Name, f.Type, f.Tag, w.name, w.typ)
		}
	}
}
