package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// Thread-local variables (qGetTLSAddr), through gdbserverx and GNU
// gdbserver.

// TestTLS: `print` of thread-local variables in each thread: the
// program's, a library's linked at start, and a dlopen'ed library's,
// with the values each thread stored (tls.c: 10*i, 20*i, 30*i in thread
// i), the same as with GNU gdbserver; in the thread that never touched
// the dlopen'ed library's variable, both servers refuse it.
func TestTLS(t *testing.T) {
	root := gdbtest.Root(t)
	lib := gdbtest.CompileC(t, filepath.Join(root, "testdata", "tls_lib.c"), "-shared", "-fPIC")
	dl := gdbtest.CompileC(t, filepath.Join(root, "testdata", "tls_dl.c"), "-shared", "-fPIC")
	prog := gdbtest.CompileC(t, filepath.Join(root, "testdata", "tls.c"), lib, "-ldl")
	outs := map[string][]string{}
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, dl)
		var cmds []string
		cmds = append(cmds, "target remote "+srv.Addr(), "break stop_here", "continue")
		for i := 0; i < 4; i++ {
			// Thread i of tls.c recorded its tid in addr[i].tid: select
			// the gdb thread with that LWP.
			cmds = append(cmds, fmt.Sprintf(`python gdb.execute("thread %%d" %% [th.num for th in gdb.selected_inferior().threads() if th.ptid[1] == int(gdb.parse_and_eval("addr[%d].tid"))][0])`, i),
				fmt.Sprintf("echo @@ thread %d\\n", i),
				"print tls_var", "print tls_zero", "print lib_tls", "print dl_tls",
				"print &tls_var == addr["+strconv.Itoa(i)+"].var", "print &lib_tls == addr["+strconv.Itoa(i)+"].lib")
		}
		cmds = append(cmds, "kill")
		out := gdbtest.Batch(t, cmds...)
		parts := strings.Split(out, "@@ thread ")
		if len(parts) != 5 {
			t.Fatalf("%s: output:\n%s", name, out)
		}
		for i := 0; i < 4; i++ {
			part := parts[i+1]
			vals := regexp.MustCompile(`(?m)^\$\d+ = (.*)$`).FindAllStringSubmatch(part, -1)
			var got []string
			for _, v := range vals {
				got = append(got, v[1])
			}
			if i == 3 {
				got = append(got, fmt.Sprint("dl_tls: ", strings.Contains(part, "Cannot find thread-local storage")))
			}
			want := []string{strconv.Itoa(10 * i), strconv.Itoa(i), strconv.Itoa(20 * i)}
			if i != 3 {
				want = append(want, strconv.Itoa(30*i))
			}
			want = append(want, "1", "1")
			if i == 3 {
				want = append(want, "dl_tls: true")
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s: thread %d: %q, want %q\n%s", name, i, got, want, part)
			}
			outs[name] = append(outs[name], got...)
		}
	}
	if gs, ok := outs["gdbserver"]; ok && strings.Join(gs, " ") != strings.Join(outs["gdbserverx"], " ") {
		t.Errorf("gdbserverx %q, gdbserver %q", outs["gdbserverx"], gs)
	}
}
