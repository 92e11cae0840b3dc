package server

import (
	"errors"
	"io"
	"os"
	"syscall"

	"gdbserverx/rsp"
)

// hostFile is a file open for a client through vFile:open.
type hostFile struct {
	f *os.File
	// next is the offset just past the last pread reply, and window the
	// most that reply carried: see readWindow.
	next   int64
	window int
}

// Read windows of vFile:pread. gdb asks for a whole packet's worth at
// every read (it caches what it gets), while at connect it needs a few
// hundred bytes here and there of ld.so and libc: answering a whole packet
// each time made gdb unescape far more than it used, and the connect
// slower than gdbserver's (bench/RESULTS.md, "server"). Reads start at a
// page and the window grows fourfold while gdb reads in sequence (`remote
// get`, a symbol file read whole), up to what a packet holds.
const (
	preadFirst = 4096
	preadGrow  = 4
)

// readWindow is how many bytes to answer a pread of count bytes at off
// with, at most max.
func (h *hostFile) readWindow(off int64, count, max int) int {
	if off == h.next && h.window > 0 {
		h.window = min(h.window*preadGrow, max)
	} else {
		h.window = preadFirst
	}
	return min(count, h.window, max)
}

// hostFiles are the host files a client opened through vFile:open, by
// the descriptor it was given, and the process whose filesystem paths
// refer to (vFile:setfs). Owned by the client's session; closed when it
// leaves.
type hostFiles struct {
	open  map[int]*hostFile
	next  int // the next descriptor given
	fsPid int
	buf   []byte // pread scratch
	// needed are the files gdb needs, kept while the program stays
	// stopped (confine.go).
	needed neededFiles
}

// serve serves the vFile packets (GDB manual, "Host I/O Packets"): gdb
// reads the program and its libraries through them when its sysroot is
// "target:", the default. Replies use GDB's File-I/O errno values.
func (h *hostFiles) serve(c *client, req rsp.Request) {
	dst := c.scratch()
	p := c.cur()
	switch r := req.(type) {
	case *rsp.FileSetFS:
		dst = h.setfs(dst, p, int(r.Pid))
	case *rsp.FileOpen:
		dst = h.openFile(c, dst, p, r)
	case *rsp.FileRead:
		dst = h.pread(dst, r)
	case *rsp.FileWrite:
		dst = h.pwrite(dst, r)
	case *rsp.FileClose:
		f := h.open[r.FD]
		if f == nil {
			dst = rsp.AppendFileError(dst, fioEBADF)
			break
		}
		delete(h.open, r.FD)
		f.f.Close()
		dst = rsp.AppendFileResult(dst, 0)
	case *rsp.FileStat:
		dst = h.fstat(dst, r)
	case *rsp.FileReadlink:
		target, err := h.readlink(c, p, r.Path)
		if err != nil {
			dst = h.failed(c, dst, req, err)
			break
		}
		dst = rsp.AppendFileData(dst, []byte(target))
	case *rsp.FileUnlink:
		if err := h.unlink(c, p, r.Path); err != nil {
			dst = h.failed(c, dst, req, err)
			break
		}
		dst = rsp.AppendFileResult(dst, 0)
	}
	c.reply(dst)
}

// failed answers a vFile request that failed with the File-I/O errno of
// err; a path outside the confinement (confine.go) is also logged and
// recorded in --event-log, but for gdb's probe of vFile.
func (h *hostFiles) failed(c *client, dst []byte, req rsp.Request, err error) []byte {
	var ce *confinedError
	switch {
	case !errors.As(err, &ce):
	case ce.probe:
		c.s.log.debugf("client #%d: %s %s: %s", c.id, req.PacketName(), ce.path, ce.reason)
	default:
		c.s.log.printf("Client #%d (%s): refused %s %s: %s (widen with --vfile-root DIR or --vfile-any)", c.id, c.peer, req.PacketName(), ce.path, ce.reason)
		c.s.events.refusal(refusalRecord{Refused: req.PacketName(), Client: c.id, Peer: c.peer, Role: c.role.String(), Path: ce.path, Text: ce.reason})
	}
	return rsp.AppendFileError(dst, fileioErrno(err))
}

// setfs serves vFile:setfs: the paths of the next packets are the
// process's (pid, the process debugged: gdb names no other) or the
// server's (0).
func (h *hostFiles) setfs(dst []byte, p *process, pid int) []byte {
	if pid != 0 {
		if p != nil && p.root == nil {
			// The target cannot tell where its files are: as gdbserver
			// does for such a target, the packet is not supported, and
			// gdb reads the server's files.
			return dst
		}
		if p == nil || pid != p.pid {
			return rsp.AppendFileError(dst, fioENOENT)
		}
	}
	h.fsPid = pid
	return rsp.AppendFileResult(dst, 0)
}

// openFile serves vFile:open: at most maxHostFiles at once (EMFILE).
func (h *hostFiles) openFile(c *client, dst []byte, p *process, r *rsp.FileOpen) []byte {
	flags, ok := fileioFlags(int(r.Flags))
	if !ok {
		return rsp.AppendFileError(dst, fioEINVAL)
	}
	if len(h.open) >= maxHostFiles {
		return rsp.AppendFileError(dst, fioEMFILE)
	}
	f, err := h.openConfined(c, p, r.Path, flags, os.FileMode(r.Mode&0o777))
	if err != nil {
		return h.failed(c, dst, r, err)
	}
	fd := h.next
	h.next++
	h.open[fd] = &hostFile{f: f}
	return rsp.AppendFileResult(dst, int64(fd))
}

// pread serves vFile:pread: as much of the window as fits a packet.
func (h *hostFiles) pread(dst []byte, r *rsp.FileRead) []byte {
	f := h.open[r.FD]
	if f == nil {
		return rsp.AppendFileError(dst, fioEBADF)
	}
	// The reply is binary and escaped: read what can fit.
	n := f.readWindow(int64(r.Offset), r.Count, (PacketSize-32)/2)
	if cap(h.buf) < n {
		h.buf = make([]byte, n)
	}
	buf := h.buf[:n]
	got, err := f.f.ReadAt(buf, int64(r.Offset))
	if got == 0 && err != nil && !isEOF(err) {
		return rsp.AppendFileError(dst, fileioErrno(err))
	}
	data := buf[:got]
	if fit := rsp.EscapedFit(data, PacketSize-32); fit < len(data) {
		data = data[:fit]
	}
	f.next = int64(r.Offset) + int64(len(data))
	return rsp.AppendFileData(dst, data)
}

// pwrite serves vFile:pwrite.
func (h *hostFiles) pwrite(dst []byte, r *rsp.FileWrite) []byte {
	f := h.open[r.FD]
	if f == nil {
		return rsp.AppendFileError(dst, fioEBADF)
	}
	n, err := f.f.WriteAt(r.Data, int64(r.Offset))
	if err != nil && n == 0 {
		return rsp.AppendFileError(dst, fileioErrno(err))
	}
	return rsp.AppendFileResult(dst, int64(n))
}

// fstat serves vFile:fstat, in GDB's struct stat.
func (h *hostFiles) fstat(dst []byte, r *rsp.FileStat) []byte {
	f := h.open[r.FD]
	if f == nil {
		return rsp.AppendFileError(dst, fioEBADF)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.f.Fd()), &st); err != nil {
		return rsp.AppendFileError(dst, fileioErrno(err))
	}
	return rsp.AppendFileData(dst, fileioStat(&st))
}

// closeAll closes every file (the client left).
func (h *hostFiles) closeAll() {
	for fd, f := range h.open {
		f.f.Close()
		delete(h.open, fd)
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
