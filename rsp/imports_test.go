package rsp

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything rsp's non-test code may import: the
// standard library's plumbing, nothing of gdbserverx (rsp knows packets,
// not processes) and nothing that reaches the system. A new entry is a
// design change (STYLE.md, section 1).
var allowedImports = map[string]bool{
	"bufio": true, "bytes": true, "errors": true, "fmt": true, "io": true, "strconv": true,
	"strings": true, "sync": true, "sync/atomic": true, "unsafe": true,
}

func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowedImports[path] {
				t.Errorf("%s imports %q, which rsp may not", name, path)
			}
		}
	}
}
