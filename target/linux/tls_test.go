package linux

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/target"
)

// tlsProgram compiles testdata/tls.c (at the module's root) with its
// library linked at start, and the library it loads with dlopen; pie
// says whether the program is position-independent.
func tlsProgram(t testing.TB, pie bool) (bin, lib, dl string) {
	t.Helper()
	root := filepath.Join(gdbtest.Root(t), "testdata")
	lib = gdbtest.CompileC(t, filepath.Join(root, "tls_lib.c"), "-shared", "-fPIC")
	dl = gdbtest.CompileC(t, filepath.Join(root, "tls_dl.c"), "-shared", "-fPIC")
	flags := []string{"-no-pie", "-fno-pie"}
	if pie {
		flags = []string{"-pie", "-fPIE"}
	}
	bin = gdbtest.CompileC(t, filepath.Join(root, "tls.c"), append(flags, lib, "-ldl")...)
	return bin, lib, dl
}

// tlsOffset is a thread-local symbol's offset in its module's TLS
// block: its value in the symbol table (STT_TLS), which is also what
// gdb reads from the DWARF and sends in qGetTLSAddr.
func tlsOffset(t testing.TB, file, name string) uint64 {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name && elf.ST_TYPE(s.Info) == elf.STT_TLS {
			return s.Value
		}
	}
	t.Fatalf("%s: no thread-local symbol %s", file, name)
	return 0
}

// TestTLSAddress: the address of each thread-local variable in each
// thread, of the program, of a library linked at start and of one loaded
// with dlopen, is where the thread itself found it (tls.c records &var
// in every thread); a thread that never touched the dlopen'ed library's
// variable has no block for it (ErrTLSNotAllocated), and a module
// without thread-local storage says so (ErrNoTLS).
func TestTLSAddress(t *testing.T) {
	for _, pie := range []bool{false, true} {
		name := "no-pie"
		if pie {
			name = "pie"
		}
		t.Run(name, func(t *testing.T) { testTLSAddress(t, pie) })
	}
}

func testTLSAddress(t *testing.T, pie bool) {
	bin, lib, dl := tlsProgram(t, pie)
	p := launchFacts(t, bin, dl)
	toSignal(t, p)
	list, err := p.Libraries()
	if err != nil {
		t.Fatal(err)
	}
	lms := map[string]uint64{"main": list.MainLM}
	var vdso uint64
	for _, l := range list.Libraries {
		switch {
		case l.Name == lib:
			lms["lib"] = l.LM
		case l.Name == dl:
			lms["dl"] = l.LM
		case !strings.HasPrefix(l.Name, "/"):
			vdso = l.LM // "linux-vdso.so.1", or "" before glibc names it
		}
	}
	if len(lms) != 3 || vdso == 0 {
		t.Fatalf("link maps %v, vDSO %#x, in %+v", lms, vdso, list)
	}
	// struct where { int *var, *lib; long *dl, *zero; int tid; } addr[4],
	// at its run-time address: the symbol's plus the load bias, which
	// main-lm's l_addr is.
	var bias uint64
	if pie {
		var b [8]byte
		if _, err := p.ReadMemory(list.MainLM, b[:]); err != nil {
			t.Fatal(err)
		}
		bias = binary.LittleEndian.Uint64(b[:])
	}
	var where [4 * 40]byte
	if _, err := p.ReadMemory(symbol(t, bin, "addr")+bias, where[:]); err != nil {
		t.Fatal(err)
	}
	vars := []struct {
		module, file, sym string
		field             int
	}{
		{"main", bin, "tls_var", 0}, {"main", bin, "tls_zero", 24}, {"lib", lib, "lib_tls", 8}, {"dl", dl, "dl_tls", 16},
	}
	for i := 0; i < 4; i++ {
		rec := where[40*i:]
		tid := target.Tid(binary.LittleEndian.Uint32(rec[32:]))
		for _, v := range vars {
			want := binary.LittleEndian.Uint64(rec[v.field:])
			got, err := p.TLSAddress(tid, lms[v.module], tlsOffset(t, v.file, v.sym))
			switch {
			case v.module == "dl" && i == 3:
				if !errors.Is(err, target.ErrTLSNotAllocated) {
					t.Errorf("thread %d (%d), %s: %#x, %v; want ErrTLSNotAllocated", i, tid, v.sym, got, err)
				}
			case err != nil || got != want:
				t.Errorf("thread %d (%d), %s: %#x, %v; want %#x", i, tid, v.sym, got, err, want)
			}
		}
		// lm 0 is the program's.
		if got, err := p.TLSAddress(tid, 0, tlsOffset(t, bin, "tls_var")); err != nil || got != binary.LittleEndian.Uint64(rec) {
			t.Errorf("thread %d, tls_var with lm 0: %#x, %v", i, got, err)
		}
	}
	if _, err := p.TLSAddress(target.Tid(p.Pid()), vdso, 0); !errors.Is(err, target.ErrNoTLS) {
		t.Errorf("the vDSO's TLS: %v, want ErrNoTLS", err)
	}
	if _, err := p.TLSAddress(target.Tid(p.Pid()+100000), lms["main"], 0); err == nil || !strings.Contains(err.Error(), "no such thread") {
		t.Errorf("a thread that is not there: %v", err)
	}
}
