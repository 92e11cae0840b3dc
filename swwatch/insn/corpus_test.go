package insn

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusPrograms are the C programs of testdata/ and the gcc flags each
// is built with for the corpus tests.
var corpusPrograms = []string{"arrays.c", "structs.c", "strings.c", "float.c", "vector.c"}

var corpusFlags = [][]string{
	{"-O0"},
	{"-O2"},
	{"-O2", "-mavx2"},
	{"-O3", "-mavx512f", "-mavx512bw", "-mavx512vl"},
}

// knownUndecodable lists instructions (by objdump mnemonic) that the
// corpus may contain and Decode refuses, each with why. The caller falls
// back to comparing values for them. Empty: every instruction of the
// corpus decodes.
var knownUndecodable = map[string]string{}

// decodeCorpus decodes every instruction objdump lists in path and
// checks the length and that Accesses can answer for it.
func decodeCorpus(t *testing.T, path string) (n int, mnemonics map[string]bool) {
	t.Helper()
	mnemonics = map[string]bool{}
	failures := map[string][]string{}
	regs := &fakeRegs{}
	*regs = baselineRegs()
	for _, ins := range objdump(t, path) {
		if strings.HasPrefix(ins.text, "(bad)") || ins.text == "" {
			continue // data in the text section (jump tables, padding)
		}
		n++
		mn := strings.Fields(ins.text)[0]
		in, err := Decode(ins.code, Mode64)
		if err == nil && in.Len != len(ins.code) {
			err = fmt.Errorf("length %d, objdump %d", in.Len, len(ins.code))
		}
		if err == nil {
			_, err = Accesses(in, regs, nil)
			if errors.Is(err, ErrUndecodable) && strings.Contains(err.Error(), "xsave component") {
				err = nil // depends on XCR0, not on the decoding
			}
		}
		if err != nil {
			if _, ok := knownUndecodable[mn]; !ok {
				failures[mn] = append(failures[mn], fmt.Sprintf("%#x: % x %s: %v", ins.addr, ins.code, ins.text, err))
			}
			continue
		}
		mnemonics[in.Mnemonic()] = true
	}
	keys := make([]string, 0, len(failures))
	for k := range failures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("%s: %d instructions fail, e.g. %s", k, len(failures[k]), failures[k][0])
	}
	return n, mnemonics
}

func TestCorpusDecodes(t *testing.T) {
	all := map[string]bool{}
	total := 0
	for _, prog := range corpusPrograms {
		for _, flags := range corpusFlags {
			path := buildC(t, prog, flags...)
			n, mn := decodeCorpus(t, path)
			if n == 0 {
				t.Errorf("%s %v: objdump listed no instruction", prog, flags)
			}
			total += n
			for m := range mn {
				all[m] = true
			}
		}
	}
	t.Logf("%d instructions, %d distinct opcodes decoded", total, len(all))
}

// TestSystemLibrariesDecode decodes the C library and dynamic linker of
// this machine, which carry hand-written AVX2 and AVX-512 string
// functions, CET and PKU instructions. They are the ones the test
// programs load: the dynamic linker named by a compiled program's
// PT_INTERP, and the libc.so.6 gcc links against. Every x86-64 Linux with
// gcc and glibc has both, so a missing one is a failure, not a skip.
func TestSystemLibrariesDecode(t *testing.T) {
	if testing.Short() {
		t.Skip("long: decodes the whole C library")
	}
	for _, lib := range []string{dynamicLinker(t), gccFile(t, "libc.so.6")} {
		n, mn := decodeCorpus(t, lib)
		if n < 1000 {
			t.Errorf("%s: objdump listed %d instructions; a C library has hundreds of thousands", lib, n)
		}
		t.Logf("%s: %d instructions, %d distinct opcodes", lib, n, len(mn))
	}
}

// dynamicLinker is the PT_INTERP of a program gcc builds here.
func dynamicLinker(t *testing.T) string {
	t.Helper()
	f, err := elf.Open(buildC(t, corpusPrograms[0], "-O0"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimRight(string(b), "\x00")
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("the programs' dynamic linker: %v", err)
		}
		return path
	}
	t.Fatal("gcc built a program without PT_INTERP: no dynamic linker to decode")
	return ""
}

// gccFile is the path gcc links name from (gcc -print-file-name).
func gccFile(t *testing.T, name string) string {
	t.Helper()
	needTool(t, "gcc")
	out, err := exec.Command("gcc", "-print-file-name="+name).Output()
	if err != nil {
		t.Fatalf("gcc -print-file-name=%s: %v", name, err)
	}
	path := strings.TrimSpace(string(out))
	if !filepath.IsAbs(path) {
		t.Fatalf("gcc does not find %s (it answers %q)", name, path)
	}
	path = filepath.Clean(path)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
