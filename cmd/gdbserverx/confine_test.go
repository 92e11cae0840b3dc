package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/rsp"
)

// Host files (README, "Security"): vFile opens only the files gdb needs
// (the program, what it maps, /proc/PID, /usr/lib/debug) and those
// beneath --vfile-root, resolved without leaving them.

// confinedTree makes, in a new directory:
//
//	root/ok.txt, root/sub/in.txt
//	root/sub/up  -> ../ok.txt          (stays inside)
//	root/abs     -> /etc/passwd        (absolute: leaves)
//	root/esc     -> ../outside.txt     (climbs out)
//	root/fifo    (would block an open)
//	outside.txt
func confinedTree(t *testing.T) (dir, root string) {
	t.Helper()
	dir = t.TempDir()
	root = filepath.Join(dir, "root")
	for _, err := range []error{
		os.MkdirAll(filepath.Join(root, "sub"), 0o755),
		os.WriteFile(filepath.Join(root, "ok.txt"), []byte("inside"), 0o644),
		os.WriteFile(filepath.Join(root, "sub", "in.txt"), []byte("deeper"), 0o644),
		os.WriteFile(filepath.Join(dir, "outside.txt"), []byte("secret"), 0o644),
		os.Symlink("../ok.txt", filepath.Join(root, "sub", "up")),
		os.Symlink("/etc/passwd", filepath.Join(root, "abs")),
		os.Symlink("../outside.txt", filepath.Join(root, "esc")),
		unix.Mkfifo(filepath.Join(root, "fifo"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Held open, so that an open of it by mistake returns (and the test
	// fails) rather than blocks the server.
	fifo, err := os.OpenFile(filepath.Join(root, "fifo"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fifo.Close() })
	return dir, root
}

// fileOpen sends vFile:open for reading and returns the reply: "F<fd>",
// or "F-1,<errno>".
func fileOpen(t *testing.T, c *rsp.Client, path string) string {
	t.Helper()
	return call(t, c, "vFile:open:"+hexString(path)+",0,0")
}

// readHostFile reads an open host file whole.
func readHostFile(t *testing.T, c *rsp.Client, fd string) string {
	t.Helper()
	var out []byte
	for {
		r := call(t, c, fmt.Sprintf("vFile:pread:%s,4000,%x", fd, len(out)))
		n, data, _ := strings.Cut(r, ";")
		if n == "F0" || !strings.HasPrefix(n, "F") || strings.HasPrefix(n, "F-") {
			break
		}
		out = append(out, data...)
	}
	call(t, c, "vFile:close:"+fd)
	return string(out)
}

// TestVFileConfinement: raw vFile packets against a program stopped in
// main (its libraries loaded): what gdb needs opens, whatever path names
// it; ".." above a directory, links out of it, absolute paths elsewhere,
// other processes' /proc and the magic links of /proc/PID are refused
// with EACCES (F-1,d); a FIFO is not opened (it would block the server);
// --vfile-any opens anything.
func TestVFileConfinement(t *testing.T) {
	dir, root := confinedTree(t)
	prog := gdbtest.Program(t, "basic", "-no-pie")
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--vfile-root", root, "127.0.0.1:0", prog)
	_, m, err := srv.Stderr.Wait(0, regexp.MustCompile(`created; pid = (\d+)$`), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	pid := m[1]
	c, _ := dial(t, srv)
	call(t, c, "qSupported:multiprocess+")
	call(t, c, fmt.Sprintf("Z0,%x,1", gdbtest.Symbol(t, prog, "main")))
	if r := call(t, c, "vCont;c"); !strings.HasPrefix(r, "T05") {
		t.Fatalf("run to main: %q", r)
	}
	maps, err := os.ReadFile("/proc/" + pid + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	libc := regexp.MustCompile(`(?m) (/\S*/libc\.so\.6)$`).FindSubmatch(maps)
	if libc == nil {
		t.Fatalf("no libc in the program's maps:\n%s", maps)
	}
	call(t, c, "vFile:setfs:0")
	const refused = "F-1,d"
	for _, tc := range []struct {
		path, want string // want: the file's first bytes, or the reply
	}{
		{prog, "\x7fELF"},
		{"/lib64/ld-linux-x86-64.so.2", "\x7fELF"}, // PT_INTERP: a link to the file mapped
		{string(libc[1]), "\x7fELF"},
		{"/proc/" + pid + "/maps", string(maps[:16])},
		{"/proc/" + pid + "/task/" + pid + "/comm", "basic\n"},
		{"/proc/" + pid + "/exe", "\x7fELF"}, // a magic link to the program itself
		{root + "/ok.txt", "inside"},
		{root + "/sub/in.txt", "deeper"},
		{root + "/sub/up", "inside"},
		{root + "/sub/../ok.txt", "inside"},
		{root + "/../outside.txt", refused},
		{root + "/sub/../../outside.txt", refused},
		{dir + "/outside.txt", refused},
		{root + "/abs", refused},
		{root + "/esc", refused},
		{root + "/fifo", refused},
		{root + "/nothing", "F-1,2"},
		{"/etc/passwd", refused},
		{"/etc/shadow", refused},
		{"/nonexistent/file", refused}, // outside: refused whether or not it exists
		{"/proc/self/environ", refused},
		{"/proc/1/environ", refused},
		{"/proc/" + pid + "/../1/environ", refused},
		{"/proc/" + pid + "/root/etc/passwd", refused},
		{"/proc/" + pid + "/cwd/" + filepath.Base(prog), refused},
		{"/proc/" + pid + "/fd/0", refused},
		{"/proc/" + pid + "/task/" + pid + "/root/etc/passwd", refused},
		{"relative/path", refused},
	} {
		r := fileOpen(t, c, tc.path)
		if strings.HasPrefix(tc.want, "F-") {
			if r != tc.want {
				t.Errorf("open %s: %q, want %q", tc.path, r, tc.want)
			}
			continue
		}
		if !regexp.MustCompile(`^F[0-9a-f]+$`).MatchString(r) {
			t.Errorf("open %s: %q, want it opened", tc.path, r)
			continue
		}
		if got := readHostFile(t, c, r[1:]); !strings.HasPrefix(got, tc.want) {
			t.Errorf("read %s: %.16q, want %q first", tc.path, got, tc.want)
		}
	}
	if r := call(t, c, "vFile:readlink:"+hexString("/proc/"+pid+"/exe")); r != fmt.Sprintf("F%x;%s", len(prog), prog) {
		t.Errorf("readlink /proc/PID/exe: %q", r)
	}
	if r := call(t, c, "vFile:readlink:"+hexString("/proc/self/exe")); r != refused {
		t.Errorf("readlink /proc/self/exe (the server's): %q", r)
	}
	if r := call(t, c, "vFile:setfs:1"); r != "F-1,2" {
		t.Errorf("vFile:setfs:1 (a process the server does not debug): %q, want ENOENT", r)
	}
	if r := call(t, c, "vFile:unlink:"+hexString(dir+"/outside.txt")); r != refused {
		t.Errorf("unlink outside: %q", r)
	}
	if _, err := os.Stat(dir + "/outside.txt"); err != nil {
		t.Errorf("outside.txt: %v", err)
	}
	if !strings.Contains(srv.Stderr.String(), "refused vFile:open /etc/shadow: not the program, one of its libraries, nor beneath /proc/"+pid+", /usr/lib/debug, "+root+" (widen with --vfile-root DIR or --vfile-any)") {
		t.Errorf("the server's log:\n%s", srv.Stderr)
	}

	// gdb's remote get: inside, the file; outside, "Permission denied"
	// and nothing written.
	out := gdb(t, srv, "remote get "+root+"/ok.txt "+dir+"/got.txt", "remote get /etc/passwd "+dir+"/passwd")
	contains(t, out, `Remote I/O error: Permission denied`)
	if b, err := os.ReadFile(dir + "/got.txt"); string(b) != "inside" {
		t.Errorf("remote get of ok.txt: %q, %v", b, err)
	}
	if _, err := os.Stat(dir + "/passwd"); err == nil {
		t.Errorf("remote get of /etc/passwd wrote a file")
	}

	srv = gdbtest.StartServer(t, gdbtest.Server(t), "--vfile-any", "127.0.0.1:0", prog)
	c, _ = dial(t, srv)
	for path, want := range map[string]string{dir + "/outside.txt": "secret", root + "/esc": "secret", "/etc/passwd": "root:"} {
		r := fileOpen(t, c, path)
		if !strings.HasPrefix(r, "F") || strings.HasPrefix(r, "F-") {
			t.Errorf("--vfile-any: open %s: %q", path, r)
			continue
		}
		if got := readHostFile(t, c, r[1:]); !strings.HasPrefix(got, want) {
			t.Errorf("--vfile-any: %s: %.16q", path, got)
		}
	}
	if r := fileOpen(t, c, root+"/fifo"); r != refused {
		t.Errorf("--vfile-any: a FIFO: %q, want %q (not opened: it would block)", r, refused)
	}
}

// TestSysrootLoadsLibraries: with the default sysroot "target:" and the
// default confinement, gdb reads ld.so, libc and a library of the
// program's own (linked by its path, in a directory of the tests) from
// the server: symbols, breakpoints and backtraces through them work.
func TestSysrootLoadsLibraries(t *testing.T) {
	lib := gdbtest.Program(t, "solib", "-shared", "-fPIC")
	prog := gdbtest.Program(t, "usesolib", lib)
	srv := serve(t, prog)
	out := gdb(t, srv,
		"break solib_add",
		"continue",
		"bt",
		"info sharedlibrary",
		"continue",
	)
	contains(t, out,
		`from target:/lib64/ld-linux-x86-64.so.2`,
		`Breakpoint 1, solib_add \(a=2, b=3\) at .*solib\.c:\d+`,
		`#1  0x[0-9a-f]+ in main \(\) at .*usesolib\.c:\d+`,
		`Yes\s+target:/lib64/ld-linux-x86-64.so.2`,
		`Yes\s+target:`+regexp.QuoteMeta(lib),
		`Yes\s+target:/lib/x86_64-linux-gnu/libc.so.6`,
		`\[Inferior 1 \(process \d+\) exited normally\]`,
	)
	if strings.Contains(srv.Stderr.String(), "refused") {
		t.Errorf("the server refused a file gdb needs:\n%s", srv.Stderr)
	}
	t.Logf("library %s", lib)
}
