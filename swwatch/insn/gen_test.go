package insn

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedTableUpToDate regenerates csvtable.go from the CSV of the
// golang.org/x/arch version go.mod pins and compares.
func TestGeneratedTableUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run gen.go")
	}
	needTool(t, "go")
	out := filepath.Join(t.TempDir(), "csvtable.go")
	if b, err := exec.Command("go", "run", "gen.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("csvtable.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, have) {
		t.Error("csvtable.go is stale: run go generate ./swwatch/insn/")
	}
}
