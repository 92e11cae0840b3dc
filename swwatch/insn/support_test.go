package insn

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Builds are cached per test binary, as in delve's BuildFixture: each C
// program is compiled once however many tests use it.
var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{} // key -> path, or "!" + error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func needTool(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// buildC compiles testdata/src with gcc and flags, once per test binary.
func buildC(t testing.TB, src string, flags ...string) string {
	t.Helper()
	needTool(t, "gcc")
	key := src + " " + strings.Join(flags, " ")
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[key]; ok {
		if strings.HasPrefix(p, "!") {
			t.Fatal(p[1:])
		}
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "insn-test-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, fmt.Sprintf("%s.%d", strings.TrimSuffix(src, ".c"), len(built)))
	args := append([]string{"-o", out}, flags...)
	args = append(args, filepath.Join("testdata", src))
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		built[key] = fmt.Sprintf("!gcc %s: %v\n%s", strings.Join(args, " "), err, b)
		t.Fatal(built[key][1:])
	}
	built[key] = out
	return out
}

// assemble assembles AT&T snippets with GNU as and returns each one's
// machine code. Snippets may use local labels but no symbols from
// outside.
func assemble(t testing.TB, snippets []string) [][]byte {
	t.Helper()
	needTool(t, "as")
	dir := t.TempDir()
	var src bytes.Buffer
	src.WriteString(".text\n")
	for i, s := range snippets {
		fmt.Fprintf(&src, "snip%d:\n%s\nsnip%d_end:\n", i, s, i)
	}
	s, o := filepath.Join(dir, "snips.s"), filepath.Join(dir, "snips.o")
	if err := os.WriteFile(s, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("as", "--64", "-o", o, s).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, b)
	}
	f, err := elf.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text, err := f.Section(".text").Data()
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	addr := map[string]uint64{}
	for _, sym := range syms {
		addr[sym.Name] = sym.Value
	}
	out := make([][]byte, len(snippets))
	for i := range snippets {
		a, okA := addr[fmt.Sprintf("snip%d", i)]
		b, okB := addr[fmt.Sprintf("snip%d_end", i)]
		if !okA || !okB {
			t.Fatalf("snippet %d: labels missing", i)
		}
		out[i] = text[a:b]
	}
	return out
}

// objdumpInsn is one instruction as objdump -d lists it.
type objdumpInsn struct {
	addr uint64
	code []byte
	text string
}

// objdump disassembles the executable sections of path.
func objdump(t testing.TB, path string) []objdumpInsn {
	t.Helper()
	needTool(t, "objdump")
	cmd := exec.Command("objdump", "-d", "-w", "--insn-width=16", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var insns []objdumpInsn
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) < 2 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		var a uint64
		if _, err := fmt.Sscanf(strings.TrimSpace(f[0]), "%x:", &a); err != nil {
			continue
		}
		var code []byte
		for _, h := range strings.Fields(f[1]) {
			var b byte
			if _, err := fmt.Sscanf(h, "%02x", &b); err != nil {
				code = nil
				break
			}
			code = append(code, b)
		}
		if len(code) == 0 {
			continue
		}
		text := ""
		if len(f) == 3 {
			text = strings.Join(strings.Fields(f[2]), " ")
		}
		insns = append(insns, objdumpInsn{a, code, text})
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("objdump %s: %v", path, err)
	}
	return insns
}
