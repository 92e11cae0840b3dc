package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// tree makes the directory the resolution tests walk:
//
//	root/a.txt
//	root/sub/b.txt
//	root/sub/up      -> ../a.txt        (relative, stays inside)
//	root/dirlink     -> sub
//	root/abs         -> /etc/hostname   (absolute: leaves)
//	root/esc         -> ../outside.txt  (relative, leaves)
//	root/loop        -> loop
//	root/fifo        (a FIFO)
//	outside.txt      (beside root)
func tree(t *testing.T) (dir, root string) {
	t.Helper()
	dir = t.TempDir()
	root = filepath.Join(dir, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "a.txt"), []byte("a"), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "b.txt"), []byte("b"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "outside.txt"), []byte("secret"), 0o644))
	for link, to := range map[string]string{"sub/up": "../a.txt", "dirlink": "sub", "abs": "/etc/hostname", "esc": "../outside.txt", "loop": "loop"} {
		must(os.Symlink(to, filepath.Join(root, link)))
	}
	must(unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	// Held open, so that an open of it by mistake returns (and the test
	// fails) rather than blocks.
	fifo, err := os.OpenFile(filepath.Join(root, "fifo"), os.O_RDWR, 0)
	must(err)
	t.Cleanup(func() { fifo.Close() })
	return dir, root
}

// withWalk runs f with openat2 (when the kernel has it) and with the walk
// that stands in for it.
func withWalk(t *testing.T, f func(t *testing.T)) {
	fd, err := unix.Openat2(unix.AT_FDCWD, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH})
	if err == nil {
		unix.Close(fd)
		t.Run("openat2", f)
	} else {
		t.Logf("openat2: %v; only the walk is tested", err)
	}
	noOpenat2.Store(true)
	defer noOpenat2.Store(false)
	t.Run("walk", f)
}

// TestResolveBeneath: a path resolved beneath a directory reaches the
// file it names inside, through relative links that stay inside, and
// never a file outside: ".." above it, absolute links, relative links
// that climb out and magic links of /proc are refused, with openat2 and
// with the walk alike.
func TestResolveBeneath(t *testing.T) {
	_, root := tree(t)
	inode := func(path string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	withWalk(t, func(t *testing.T) {
		dfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(dfd)
		for _, tc := range []struct {
			path string
			want string // the file reached, or "" when refused
			errs []error
		}{
			{path: "a.txt", want: "a.txt"},
			{path: "sub/b.txt", want: "sub/b.txt"},
			{path: "./sub/../a.txt", want: "a.txt"},
			{path: "sub/up", want: "a.txt"},
			{path: "dirlink/b.txt", want: "sub/b.txt"},
			{path: "dirlink/../a.txt", want: "a.txt"},
			{path: "../outside.txt", errs: []error{unix.EXDEV}},
			{path: "sub/../../outside.txt", errs: []error{unix.EXDEV}},
			{path: "abs", errs: []error{unix.EXDEV}},
			{path: "esc", errs: []error{unix.EXDEV}},
			{path: "/etc/hostname", errs: []error{unix.EXDEV}},
			{path: "loop", errs: []error{unix.ELOOP}},
			{path: "nope", errs: []error{unix.ENOENT}},
			{path: "a.txt/x", errs: []error{unix.ENOTDIR}},
		} {
			fd, err := resolve(dfd, tc.path, unix.O_PATH, true)
			if tc.want == "" {
				if err == nil {
					unix.Close(fd)
				}
				if !isOneOf(err, tc.errs) {
					t.Errorf("%s: %v, want one of %v", tc.path, err, tc.errs)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", tc.path, err)
				continue
			}
			var st unix.Stat_t
			unix.Fstat(fd, &st)
			unix.Close(fd)
			if st.Ino != inode(filepath.Join(root, tc.want)) {
				t.Errorf("%s reached inode %d, not %s", tc.path, st.Ino, tc.want)
			}
		}

		// The magic links of /proc lead anywhere: never followed.
		proc, err := unix.Open(fmt.Sprintf("/proc/%d", os.Getpid()), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(proc)
		for _, p := range []string{"root/etc/passwd", "cwd", "exe", "fd/0", "task/" + fmt.Sprint(unix.Gettid()) + "/root/etc/passwd", "../1/status"} {
			if fd, err := resolve(proc, p, unix.O_PATH, true); err == nil {
				unix.Close(fd)
				t.Errorf("/proc/PID/%s was resolved", p)
			}
		}
		if fd, err := resolve(proc, "status", unix.O_PATH, true); err != nil {
			t.Errorf("/proc/PID/status: %v", err)
		} else {
			unix.Close(fd)
		}
		// readlink: the last component stays a link, magic or not.
		for _, p := range []string{"exe", "cwd"} {
			fd, err := resolve(proc, p, unix.O_PATH|unix.O_NOFOLLOW, true)
			if err != nil {
				t.Errorf("/proc/PID/%s, not followed: %v", p, err)
				continue
			}
			text, err := readlinkFd(fd)
			unix.Close(fd)
			if err != nil || !filepath.IsAbs(text) {
				t.Errorf("readlink /proc/PID/%s: %q, %v", p, text, err)
			}
		}
	})
}

// TestResolveInRoot: resolved in a process's root (vFile:setfs), an
// absolute link and ".." stop at that root.
func TestResolveInRoot(t *testing.T) {
	dir, root := tree(t)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "hostname"), []byte("inside"), 0o644)
	withWalk(t, func(t *testing.T) {
		dfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(dfd)
		for _, p := range []string{"abs", "/abs", "/../../etc/hostname", "/etc/../../etc/hostname"} {
			fd, err := resolve(dfd, p, unix.O_PATH, false)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", fd))
			unix.Close(fd)
			if string(b) != "inside" {
				t.Errorf("%s read %q (%v), want the root's etc/hostname", p, b, err)
			}
		}
		if fd, err := resolve(dfd, "/esc", unix.O_PATH, false); err == nil {
			unix.Close(fd)
			t.Errorf("esc (../outside.txt) reached %s/outside.txt from the root", dir)
		}
	})
}

// selfFiles is a fake target whose files are this test's: its process
// directory is /proc/PID of the test, its one mapped file the test
// binary, its root the server's.
type selfFiles struct{ *fakeProcess }

func (selfFiles) ProcessDir() string        { return fmt.Sprintf("/proc/%d", os.Getpid()) }
func (selfFiles) FileRoot() (string, error) { return "/", nil }
func (selfFiles) MappedFiles() ([]target.FileID, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return nil, err
	}
	return []target.FileID{{Dev: st.Dev, Ino: st.Ino}}, nil
}

// TestOpenHostConfined: vFile:open, readlink and unlink of a client,
// through the server's rules, with this test binary as the program: its
// executable and /proc/PID may be read, files beneath --vfile-root too,
// nothing else, and only regular files are opened.
func TestOpenHostConfined(t *testing.T) {
	dir, root := tree(t)
	h := newHarness(t)
	h.s.procs = nil
	h.s.setProc(newProcess(selfFiles{newFakeProcess()}, fakeBackend{}, h.s.log, false, "prog"))
	h.s.cfg.VFileRoots = []string{root}
	c := h.client()
	p := c.cur()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pid := fmt.Sprint(os.Getpid())
	open := func(path string, flags int) error {
		f, err := c.files.openConfined(c, p, path, flags, 0o600)
		if err == nil {
			f.Close()
		}
		return err
	}
	withWalk(t, func(t *testing.T) {
		for _, tc := range []struct {
			path string
			ok   bool
		}{
			{exe, true},
			{"/proc/" + pid + "/status", true},
			{"/proc/" + pid + "/exe", true}, // a magic link to the executable: the file gdb needs
			{"/proc/" + pid + "/task/" + pid + "/stat", true},
			{root + "/a.txt", true},
			{root + "/sub/up", true},
			{root + "/sub/../a.txt", true},
			{root + "/../outside.txt", false},
			{dir + "/outside.txt", false},
			{root + "/esc", false},
			{root + "/abs", false},
			{root + "/fifo", false},
			{root, false}, // a directory
			{"/etc/passwd", false},
			{"/etc/shadow", false},
			{"/proc/self/environ", false},
			{"/proc/1/environ", false},
			{"/proc/" + pid + "/../1/environ", false},
			{"/proc/" + pid + "/root/etc/passwd", false},
			{"/proc/" + pid + "/cwd/" + filepath.Base(exe), false},
			{"/proc/" + pid + "/fd/0", false},
			{"relative.txt", false},
		} {
			err := open(tc.path, os.O_RDONLY)
			if tc.ok != (err == nil) {
				t.Errorf("open %s: %v, want allowed %v", tc.path, err, tc.ok)
			}
			if err != nil && !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("open %s: %v, want EACCES", tc.path, err)
			}
		}
		if _, err := c.files.readlink(c, p, root+"/sub/up"); err != nil {
			t.Errorf("readlink beneath the root: %v", err)
		}
		if text, err := c.files.readlink(c, p, "/proc/"+pid+"/exe"); err != nil || text != exe {
			t.Errorf("readlink /proc/PID/exe: %q, %v", text, err)
		}
		if _, err := c.files.readlink(c, p, "/proc/self/exe"); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("readlink /proc/self/exe: %v, want EACCES", err)
		}
		if err := open(root+"/new.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC); err != nil {
			t.Fatalf("create beneath the root: %v", err)
		}
		if err := c.files.unlink(c, p, root+"/new.txt"); err != nil {
			t.Errorf("unlink beneath the root: %v", err)
		}
		if err := open(dir+"/new.txt", os.O_WRONLY|os.O_CREATE); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("create outside: %v, want EACCES", err)
		}
		if err := c.files.unlink(c, p, dir+"/outside.txt"); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("unlink outside: %v, want EACCES", err)
		}
		if err := c.files.unlink(c, p, root+"/esc/../outside.txt"); err == nil {
			t.Errorf("unlink through a link out of the root succeeded")
		}
	})
	if _, err := os.Stat(dir + "/outside.txt"); err != nil {
		t.Errorf("outside.txt: %v", err)
	}

	h.s.cfg.VFileAny = true
	if err := open(dir+"/outside.txt", os.O_RDONLY); err != nil {
		t.Errorf("--vfile-any: %v", err)
	}
	if err := open(root+"/fifo", os.O_RDONLY); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("--vfile-any, a FIFO: %v, want EACCES (it would block)", err)
	}
}

func isOneOf(err error, errs []error) bool {
	for _, e := range errs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
