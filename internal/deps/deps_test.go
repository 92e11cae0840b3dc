package deps

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// allowed lists, for each package of the module, the module's packages it
// may import. Imports point down: cmd -> server -> {rsp, arbiter, hwbp,
// swwatch, agentexpr, target}; rsp, arbiter, hwbp and agentexpr import
// none of the others; target knows processes, not packets. Changing this
// list is a design change (STYLE.md section 1), not a build fix. Test
// files are not checked.
//
// internal/x86cpu (what the CPU is: vendor, features, XSAVE layout from
// CPUID) is a leaf beside them: the register file (target/linux) and
// what an instruction touches (swwatch/insn, swwatch) depend on the CPU.
var allowed = map[string][]string{
	"rsp":              {},
	"hwbp":             {},
	"arbiter":          {},
	"agentexpr":        {},
	"target":           {},
	"target/linux":     {"target", "internal/x86cpu"},
	"swwatch/insn":     {"internal/x86cpu"},
	"swwatch":          {"target", "swwatch/insn", "internal/x86cpu"},
	"internal/comm":    {},
	"internal/deps":    {},
	"internal/gdbtest": {},
	"internal/x86cpu":  {},
	"server":           {"rsp", "hwbp", "arbiter", "target", "swwatch", "swwatch/insn", "internal/comm"},
	"cmd/gdbserverx":   {"server", "target", "target/linux", "internal/comm"},
}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "gdbserverx/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "gdbserverx/"
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		seen[pkg] = true
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the layering table: add it, with what it may import", pkg)
			continue
		}
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			if !contains(ok, dep) {
				t.Errorf("%s imports %s; it may import only %v", pkg, dep, ok)
			}
		}
	}
	var missing []string
	for pkg := range allowed {
		if !seen[pkg] {
			missing = append(missing, pkg)
		}
	}
	sort.Strings(missing)
	for _, pkg := range missing {
		t.Logf("no package %s yet", pkg)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestStaticBinary: the server's binary links no cgo runtime, so that
// `go build` makes a static binary even where cgo is on (Go's default
// when gcc is installed): net and os/user would bring in libc, the
// dynamic loader and about 1 ms of every start (internal/comm/sock.go).
func TestStaticBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "gdbserverx/cmd/gdbserverx").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "net", "os/user", "runtime/cgo":
			t.Errorf("cmd/gdbserverx depends on %s", dep)
		}
	}
}
