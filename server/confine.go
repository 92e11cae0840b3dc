package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"weak"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// Host files (vFile) are confined (README, "Security"): gdb reads the
// program, its libraries and a few files of /proc through vFile when its
// sysroot is "target:", but a client could ask for any file the server's
// user can read (/etc/shadow under root, ~/.ssh) or write. By default a
// client may open:
//
//   - the files gdb needs, by identity: the program's executable and
//     every file it maps (ld.so, libc, its other libraries), whatever
//     path names them (gdb opens /lib64/ld-linux-x86-64.so.2, a symbolic
//     link to the file the process maps): the path is resolved, and the
//     file it leads to must be one of them (target.ProcessFiles'
//     MappedFiles: device and inode);
//   - the files beneath a few directories: the process's own (its
//     ProcessDir: /proc/PID), /usr/lib/debug (gdb's separate debug
//     files), and each --vfile-root DIR. Paths beneath them are resolved
//     without leaving them: no ".." above the directory, no symbolic
//     link out of it, no magic link of /proc (/proc/PID/root, cwd,
//     fd/N): openat2(2) with RESOLVE_BENEATH and RESOLVE_NO_MAGICLINKS
//     (Linux 5.6), or, where the kernel lacks it, a walk that opens one
//     component at a time without following links and resolves them
//     itself (walk).
//
// Which files are the process's is the target's knowledge; this file
// knows only how to open a path without leaving a directory.
//
// Only regular files are opened, in every mode (--vfile-any too): a FIFO
// or a device would block the core loop or act on open. A file is first
// resolved to an O_PATH descriptor (no open takes place), checked, then
// opened through /proc/self/fd, so that what is opened is what was
// checked. Creating and removing files (rightHostWrite: owners only) is
// allowed beneath the directories only. A path outside gets EACCES,
// whether it exists or not.

// confinedError says a host file is outside what vFile may open.
type confinedError struct {
	path   string
	reason string
	// probe says it is not worth a line in the log: gdb opens "just
	// probing" to learn whether vFile is served.
	probe bool
}

func (e *confinedError) Error() string { return e.path + ": " + e.reason }

// Is makes a confinedError an fs.ErrPermission: the client gets EACCES.
func (e *confinedError) Is(target error) bool { return target == fs.ErrPermission }

// debugFileDir is gdb's default debug-file-directory, where the separate
// debug files of the system's libraries are.
const debugFileDir = "/usr/lib/debug"

// hostRoot is the root a client's paths are resolved in: the server's,
// or, after vFile:setfs, the program's (target.FileRoot) when it differs.
type hostRoot struct {
	fd   int    // an O_PATH descriptor of the root; -1 for the server's "/"
	path string // "/", or the process's root
}

func (r hostRoot) close() {
	if r.fd >= 0 {
		unix.Close(r.fd)
	}
}

// rootOf opens the root of the client's paths (vFile:setfs).
func (h *hostFiles) rootOf(p *process) (hostRoot, error) {
	if h.fsPid <= 0 {
		return hostRoot{fd: -1, path: "/"}, nil
	}
	if p == nil || p.pid != h.fsPid || p.root == nil {
		return hostRoot{}, &os.PathError{Op: "setfs", Path: fmt.Sprint(h.fsPid), Err: unix.ENOENT}
	}
	root, err := p.root.FileRoot()
	if err != nil || root == "/" {
		return hostRoot{fd: -1, path: "/"}, err
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return hostRoot{}, &os.PathError{Op: "open", Path: root, Err: err}
	}
	return hostRoot{fd: fd, path: root}, nil
}

// open resolves name in the root to a descriptor with flags (O_PATH,
// O_NOFOLLOW): in the server's root as any open(2) would; in a
// process's, inside it (RESOLVE_IN_ROOT).
func (r hostRoot) open(name string, flags int) (int, error) {
	if r.fd < 0 {
		return unix.Open(name, flags|unix.O_CLOEXEC, 0)
	}
	return resolve(r.fd, name, flags, false)
}

// trees are the directories beneath which a client may open files: the
// process's own (target.ProcessFiles), gdb's debug files, --vfile-root.
func trees(cfg *Config, p *process) []string {
	t := make([]string, 0, 2+len(cfg.VFileRoots))
	if p != nil && p.files != nil {
		if dir := p.files.ProcessDir(); dir != "" {
			t = append(t, dir)
		}
	}
	t = append(t, debugFileDir)
	return append(t, cfg.VFileRoots...)
}

// beneath returns name relative to dir when name lies beneath it.
func beneath(dir, name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, dir)
	if !ok || rest != "" && rest[0] != '/' && dir != "/" {
		return "", false
	}
	rest = strings.TrimLeft(rest, "/")
	if rest == "" {
		rest = "."
	}
	return rest, true
}

// openTree opens a confinement directory: the process's own on the
// server's host (it describes the process to the server), the others in
// the client's root.
func openTree(root hostRoot, dir string, p *process) (int, error) {
	if p != nil && p.files != nil && dir == p.files.ProcessDir() {
		return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	return root.open(dir, unix.O_PATH|unix.O_DIRECTORY)
}

// resolve resolves a client's path to an O_PATH descriptor of a file it
// may use (see the top of this file); nofollow leaves a final symbolic
// link unresolved (readlink). A path outside is a *confinedError.
func (h *hostFiles) resolve(c *client, p *process, name string, nofollow bool) (int, error) {
	root, err := h.rootOf(p)
	if err != nil {
		return -1, err
	}
	defer root.close()
	flags := unix.O_PATH
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	cfg := &c.s.cfg
	if cfg.VFileAny {
		return root.open(name, flags)
	}
	if !filepath.IsAbs(name) {
		return -1, &confinedError{path: name, reason: "not an absolute path", probe: true}
	}
	dirs := trees(cfg, p)
	var notFound error
	for _, dir := range dirs {
		rel, ok := beneath(dir, name)
		if !ok {
			continue
		}
		dfd, err := openTree(root, dir, p)
		if err != nil {
			continue
		}
		fd, err := resolve(dfd, rel, flags, true)
		unix.Close(dfd)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
			notFound = &os.PathError{Op: "open", Path: name, Err: err}
		}
		// EXDEV, ELOOP: the path leaves the directory; it may still be
		// a file gdb needs.
	}
	if nofollow {
		if notFound != nil {
			return -1, notFound
		}
		return -1, &confinedError{path: name, reason: "not beneath " + strings.Join(dirs, ", ")}
	}
	fd, err := root.open(name, unix.O_PATH)
	if err == nil {
		if h.isNeeded(p, root, fd) {
			return fd, nil
		}
		unix.Close(fd)
	}
	if notFound != nil {
		return -1, notFound
	}
	return -1, &confinedError{path: name, reason: "not the program, one of its libraries, nor beneath " + strings.Join(dirs, ", ")}
}

// isNeeded says whether fd is one of the files gdb needs: the program's
// executable, or a file it maps (target.ProcessFiles).
func (h *hostFiles) isNeeded(p *process, root hostRoot, fd int) bool {
	var st unix.Stat_t
	if p == nil || p.files == nil || unix.Fstat(fd, &st) != nil {
		return false
	}
	return h.needed.of(p, root.path)[target.FileID{Dev: st.Dev, Ino: st.Ino}]
}

// neededFiles is the set of the files gdb needs, kept while the program
// stays stopped: gdb opens several at each stop that loads libraries,
// and reading the program's map for each cost 40 us per open.
type neededFiles struct {
	p            weak.Pointer[process] // not kept alive by a client's cache
	root         string
	stops, other uint64 // p's counts of stops when made
	files        map[target.FileID]bool
}

// of returns the files gdb needs, made anew when the program has run
// since they were made, or when it cannot tell.
func (k *neededFiles) of(p *process, root string) map[target.FileID]bool {
	var n target.Counts
	if p.count != nil {
		n = p.count.Counts()
	}
	if p.count != nil && !p.running && k.p == weak.Make(p) && k.root == root && k.stops == n.Stops && k.other == n.Filtered {
		return k.files
	}
	*k = neededFiles{p: weak.Make(p), root: root, stops: n.Stops, other: n.Filtered, files: map[target.FileID]bool{}}
	ids, _ := p.files.MappedFiles()
	for _, id := range ids {
		k.files[id] = true
	}
	return k.files
}

// openConfined opens a host file for vFile:open, confined.
func (h *hostFiles) openConfined(c *client, p *process, name string, flags int, perm os.FileMode) (*os.File, error) {
	fd, err := h.resolve(c, p, name, false)
	if errors.Is(err, fs.ErrNotExist) && flags&os.O_CREATE != 0 {
		return h.create(c, p, name, flags, perm)
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &confinedError{path: name, reason: "not a regular file"}
	}
	// What was checked is what is opened: the descriptor's own file.
	nfd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), flags|unix.O_CLOEXEC|unix.O_NOCTTY, uint32(perm))
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(nfd), name), nil
}

// parentOf resolves the directory that holds name, confined to the
// trees (new and removed files are allowed beneath them only), and
// returns it with name's last component.
func (h *hostFiles) parentOf(c *client, p *process, name string) (int, string, error) {
	dir, base := filepath.Split(name)
	if base == "" || base == "." || base == ".." {
		return -1, "", &confinedError{path: name, reason: "not a file name"}
	}
	if c.s.cfg.VFileAny {
		root, err := h.rootOf(p)
		if err != nil {
			return -1, "", err
		}
		defer root.close()
		if dir == "" {
			dir = "."
		}
		fd, err := root.open(dir, unix.O_PATH|unix.O_DIRECTORY)
		return fd, base, err
	}
	fd, err := h.resolve(c, p, filepath.Clean(dir), false)
	if err != nil {
		return -1, "", err
	}
	return fd, base, nil
}

// create creates a file for vFile:open with O_CREAT.
func (h *hostFiles) create(c *client, p *process, name string, flags int, perm os.FileMode) (*os.File, error) {
	dfd, base, err := h.parentOf(c, p, name)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, base, flags|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, uint32(perm))
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// unlink removes a file for vFile:unlink.
func (h *hostFiles) unlink(c *client, p *process, name string) error {
	dfd, base, err := h.parentOf(c, p, name)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := unix.Unlinkat(dfd, base, 0); err != nil {
		return &os.PathError{Op: "unlink", Path: name, Err: err}
	}
	return nil
}

// readlink reads a symbolic link for vFile:readlink: beneath the trees
// only (a link's text names another file, which may be outside).
func (h *hostFiles) readlink(c *client, p *process, name string) (string, error) {
	fd, err := h.resolve(c, p, name, true)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return "", &os.PathError{Op: "readlink", Path: name, Err: unix.EINVAL} // as readlink(2) of a file that is no link
	}
	target, err := readlinkFd(fd)
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// noOpenat2 is set once openat2(2) said ENOSYS (a kernel before 5.6, or
// a seccomp filter that hides it): resolve walks from then on.
var noOpenat2 atomic.Bool

// resolve opens path relative to dirfd as an O_PATH descriptor (flags:
// O_PATH, and O_NOFOLLOW or O_DIRECTORY), following no magic link, and either not leaving dirfd
// (inside: a ".." above it or an absolute link is EXDEV) or treating
// dirfd as the root (absolute links and ".." stop there).
func resolve(dirfd int, path string, flags int, inside bool) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_IN_ROOT}
	if inside {
		how.Resolve = unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_BENEATH
	}
	if !noOpenat2.Load() {
		fd, err := unix.Openat2(dirfd, path, &how)
		if err != unix.ENOSYS {
			return fd, err
		}
		noOpenat2.Store(true)
	}
	return walk(dirfd, path, flags, inside)
}

// maxLinks is how many symbolic links a walk follows, as the kernel's
// path resolution (ELOOP after 40).
const maxLinks = 40

// walk is resolve without openat2: it opens one component at a time with
// O_PATH|O_NOFOLLOW, so the kernel follows no link, and resolves each
// symbolic link it meets from its text: relative to where it is, or,
// absolute, from dirfd (not inside) or not at all (inside: EXDEV). ".."
// goes back up the components it opened, never above dirfd. Magic links
// of /proc read as absolute paths ("/") or as names that exist nowhere
// ("socket:[123]"), so none is ever followed.
func walk(dirfd int, path string, flags int, inside bool) (int, error) {
	start, err := unix.Openat(dirfd, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	stack := []int{start} // the directories opened, dirfd's copy first
	defer func() {
		for _, fd := range stack {
			unix.Close(fd)
		}
	}()
	comps := strings.Split(path, "/")
	if strings.HasPrefix(path, "/") && inside {
		return -1, unix.EXDEV
	}
	for links := 0; len(comps) > 0; {
		name := comps[0]
		comps = comps[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				if inside {
					return -1, unix.EXDEV
				}
				continue
			}
			unix.Close(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			continue
		}
		fd, err := unix.Openat(stack[len(stack)-1], name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, err
		}
		last := isLast(comps)
		if st.Mode&unix.S_IFMT == unix.S_IFLNK && (!last || flags&unix.O_NOFOLLOW == 0) {
			target, err := readlinkFd(fd)
			unix.Close(fd)
			if err != nil {
				return -1, err
			}
			if links++; links > maxLinks {
				return -1, unix.ELOOP
			}
			if strings.HasPrefix(target, "/") {
				if inside {
					return -1, unix.EXDEV
				}
				for _, d := range stack[1:] {
					unix.Close(d)
				}
				stack = stack[:1]
			}
			comps = append(strings.Split(target, "/"), comps...)
			continue
		}
		if !last && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			unix.Close(fd)
			return -1, unix.ENOTDIR
		}
		stack = append(stack, fd)
	}
	if flags&unix.O_DIRECTORY != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(stack[len(stack)-1], &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return -1, unix.ENOTDIR
		}
	}
	fd := stack[len(stack)-1]
	stack = stack[:len(stack)-1]
	return fd, nil
}

// isLast says no component but "" and "." remains.
func isLast(comps []string) bool {
	for _, c := range comps {
		if c != "" && c != "." {
			return false
		}
	}
	return true
}

// readlinkFd reads the symbolic link an O_PATH|O_NOFOLLOW descriptor
// holds.
func readlinkFd(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
