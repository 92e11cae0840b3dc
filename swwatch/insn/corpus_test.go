package insn

import (
	"errors"
	"fmt"
	"os"
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
// functions, CET and PKU instructions.
func TestSystemLibrariesDecode(t *testing.T) {
	if testing.Short() {
		t.Skip("long: decodes the whole C library")
	}
	for _, lib := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"} {
		if _, err := os.Stat(lib); err != nil {
			t.Logf("%s: %v", lib, err)
			continue
		}
		n, mn := decodeCorpus(t, lib)
		t.Logf("%s: %d instructions, %d distinct opcodes", lib, n, len(mn))
	}
}
