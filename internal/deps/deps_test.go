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
//
// internal/procfs (the /proc status and stat files, parsed once) is a leaf too:
// the target and the software-watchpoint engine both read it, and
// swwatch may not import target/linux.
//
// hwbp is the one home of x86 debug-register facts (issue 16), so target,
// target/linux and swwatch import it: a design change, not a build fix.
// Each of them had its own copy of a few of those facts (DR6.BS three
// times, DR7's enable bits as bare arithmetic in target, target/linux and
// swwatch, RFLAGS.TF and RF twice) and their tests their own DR7
// encoders; a fact written in one place cannot disagree with itself.
// hwbp stays a leaf (pure math, no import of ours), so the edges point
// down and add no cycle; what the target learns from it are words
// (DR6SingleStep, DR7Enable, Image.Enabled), never a plan: which pieces
// hold slots is still the arbiter's and the server's.
//
// server/internal/debugpoints (issue 16) is the server's hardware
// breakpoints and watchpoints without the server: the arbiter, hwbp's
// pieces and hit judgement, and of swwatch and target only the shape of
// an emulated watch and of its hit (swwatch.Watch, target.WatchHit). It
// knows no client, packet or target call, so it is pure computation too
// (below): its table tests need no server and no process.
var allowed = map[string][]string{
	"rsp":                         {},
	"hwbp":                        {},
	"arbiter":                     {},
	"agentexpr":                   {},
	"target":                      {"hwbp"},
	"target/linux":                {"target", "hwbp", "internal/x86cpu", "internal/procfs"},
	"swwatch/insn":                {"internal/x86cpu"},
	"swwatch":                     {"target", "hwbp", "swwatch/insn", "internal/x86cpu", "internal/procfs"},
	"internal/comm":               {},
	"internal/deps":               {},
	"internal/gdbtest":            {},
	"internal/x86cpu":             {},
	"internal/procfs":             {},
	"server":                      {"rsp", "hwbp", "arbiter", "agentexpr", "target", "swwatch", "swwatch/insn", "internal/comm", "server/internal/debugpoints"},
	"server/internal/debugpoints": {"arbiter", "hwbp", "swwatch", "target"},
	"cmd/gdbserverx":              {"server", "target", "target/linux", "internal/comm"},
}

// pure lists, for the packages that are computation only, every import
// from outside the module they may have: the standard library's plumbing,
// nothing that reaches the system (no os, syscall, net, ptrace) and, for
// the instruction table, the x86 decoder. rsp knows packets, not
// processes; hwbp is x86 math; the arbiter is architecture-free; insn is
// a pure decoder; debugpoints decides and the server acts. A new entry is
// a design change, as in allowed. (These were four TestImports, one per
// package; TestLayering checks them all from one `go list`.)
var pure = map[string][]string{
	"rsp":                         {"bufio", "bytes", "errors", "fmt", "io", "strconv", "strings", "sync", "sync/atomic", "unsafe"},
	"hwbp":                        {"errors", "fmt", "iter", "math", "math/bits", "strings"},
	"arbiter":                     {"cmp", "errors", "fmt", "iter", "math/bits", "slices", "strings"},
	"swwatch/insn":                {"errors", "fmt", "math/bits", "strings", "golang.org/x/arch/x86/x86asm"},
	"server/internal/debugpoints": {"errors", "fmt", "iter", "time"},
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
				if std, isPure := pure[pkg]; isPure && !contains(std, imp) {
					t.Errorf("%s imports %s; it is pure computation and may import only %v from outside the module", pkg, imp, std)
				}
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
	for pkg := range pure {
		if !seen[pkg] {
			t.Errorf("pure package %s not found by go list", pkg)
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
