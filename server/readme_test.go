package server

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"gdbserverx/rsp"
)

var update = flag.Bool("update", false, "rewrite the generated tables of README.md")

// TestREADME checks that the README's tables of monitor commands and error
// codes are the ones the code has; -update rewrites them.
func TestREADME(t *testing.T) {
	const path = "../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var mon strings.Builder
	mon.WriteString("| command | what it does |\n|---|---|\n")
	for _, m := range monitorCommands {
		fmt.Fprintf(&mon, "| `monitor %s` | %s |\n", strings.ReplaceAll(m.usage, "|", "\\|"), m.help)
	}
	var codes strings.Builder
	codes.WriteString("| reply | errno | meaning |\n|---|---|---|\n")
	for _, e := range rsp.ErrorCodeTable() {
		fmt.Fprintf(&codes, "| `E%02x` | %s | %s |\n", uint8(e.Code), e.Name, e.Description)
	}
	var notes strings.Builder
	notes.WriteString("| when | the notice |\n|---|---|\n")
	for _, n := range noticeForms {
		fmt.Fprintf(&notes, "| %s | `%s` |\n", n.when, n.example)
	}
	want := doc
	for _, sec := range []struct{ name, body string }{{"monitor-commands", mon.String()}, {"error-codes", codes.String()}, {"notices", notes.String()}} {
		start := strings.Index(want, "<!-- "+sec.name+":")
		end := strings.Index(want, "<!-- end "+sec.name+" -->")
		if start < 0 || end < start {
			t.Fatalf("README.md has no %s section markers", sec.name)
		}
		startEnd := start + strings.Index(want[start:], "-->") + len("-->\n")
		want = want[:startEnd] + sec.body + want[end:]
	}
	if want == doc {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's generated tables are stale; run: go test ./server -run TestREADME -update")
}
