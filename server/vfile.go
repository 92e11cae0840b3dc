package server

import (
	"errors"
	"io"
	"os"
	"path/filepath"
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
// hundred bytes here and there of ld.so and libc: answering 64 KiB each
// time cost gdb 10 ms of CPU to unescape and the connect 1.44x
// gdbserver's time (bench.py -b connect). Reads start at a page and the
// window grows fourfold while gdb reads in sequence (`remote get`, a
// symbol file read whole), up to what a packet holds.
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

// hostIO serves the vFile packets (GDB manual, "Host I/O Packets"): gdb
// reads the program and its libraries through them when its sysroot is
// "target:", the default. Replies use GDB's File-I/O errno values.
func (s *Server) hostIO(c *client, req rsp.Request) {
	switch r := req.(type) {
	case *rsp.FileSetFS:
		if pid := int(r.Pid); pid != 0 {
			p := s.proc
			if p != nil && p.root == nil {
				// The target cannot tell where its files are: as
				// gdbserver does for such a target, the packet is
				// not supported, and gdb reads the server's files.
				c.replyEmpty()
				return
			}
			if p == nil || pid != p.pid {
				// Only the process the server debugs has a filesystem
				// the server knows (gdb names no other).
				c.reply(rsp.AppendFileError(c.scratch(), fioENOENT))
				return
			}
		}
		c.fsPid = int(r.Pid)
		c.reply(rsp.AppendFileResult(c.scratch(), 0))
	case *rsp.FileOpen:
		flags, ok := fileioFlags(int(r.Flags))
		if !ok {
			c.reply(rsp.AppendFileError(c.scratch(), fioEINVAL))
			return
		}
		if len(c.files) >= maxHostFiles {
			c.reply(rsp.AppendFileError(c.scratch(), fioEMFILE))
			return
		}
		path, ok := c.hostPath(r.Path)
		if !ok {
			c.reply(rsp.AppendFileError(c.scratch(), fioENOENT))
			return
		}
		f, err := os.OpenFile(path, flags|syscall.O_CLOEXEC, os.FileMode(r.Mode&0o777))
		if err != nil {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		fd := c.nextFD
		c.nextFD++
		c.files[fd] = &hostFile{f: f}
		c.reply(rsp.AppendFileResult(c.scratch(), int64(fd)))
	case *rsp.FileRead:
		h := c.files[r.FD]
		if h == nil {
			c.reply(rsp.AppendFileError(c.scratch(), fioEBADF))
			return
		}
		// The reply is binary and escaped: read what can fit.
		n := h.readWindow(int64(r.Offset), r.Count, (PacketSize-32)/2)
		if cap(c.fileBuf) < n {
			c.fileBuf = make([]byte, n)
		}
		buf := c.fileBuf[:n]
		got, err := h.f.ReadAt(buf, int64(r.Offset))
		if got == 0 && err != nil && !isEOF(err) {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		data := buf[:got]
		if fit := rsp.EscapedFit(data, PacketSize-32); fit < len(data) {
			data = data[:fit]
		}
		h.next = int64(r.Offset) + int64(len(data))
		c.reply(rsp.AppendFileData(c.scratch(), data))
	case *rsp.FileWrite:
		f := c.files[r.FD]
		if f == nil {
			c.reply(rsp.AppendFileError(c.scratch(), fioEBADF))
			return
		}
		n, err := f.f.WriteAt(r.Data, int64(r.Offset))
		if err != nil && n == 0 {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		c.reply(rsp.AppendFileResult(c.scratch(), int64(n)))
	case *rsp.FileClose:
		f := c.files[r.FD]
		if f == nil {
			c.reply(rsp.AppendFileError(c.scratch(), fioEBADF))
			return
		}
		delete(c.files, r.FD)
		f.f.Close()
		c.reply(rsp.AppendFileResult(c.scratch(), 0))
	case *rsp.FileStat:
		f := c.files[r.FD]
		if f == nil {
			c.reply(rsp.AppendFileError(c.scratch(), fioEBADF))
			return
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.f.Fd()), &st); err != nil {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		c.reply(rsp.AppendFileData(c.scratch(), fileioStat(&st)))
	case *rsp.FileReadlink:
		path, ok := c.hostPath(r.Path)
		if !ok {
			c.reply(rsp.AppendFileError(c.scratch(), fioENOENT))
			return
		}
		target, err := os.Readlink(path)
		if err != nil {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		c.reply(rsp.AppendFileData(c.scratch(), []byte(target)))
	case *rsp.FileUnlink:
		path, ok := c.hostPath(r.Path)
		if !ok {
			c.reply(rsp.AppendFileError(c.scratch(), fioENOENT))
			return
		}
		if err := os.Remove(path); err != nil {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		c.reply(rsp.AppendFileResult(c.scratch(), 0))
	}
}

// hostPath resolves a path in the filesystem vFile:setfs chose: the
// process's (target.FileRoot: a process in a container or a chroot sees
// files of its own), or the server's for 0. ok is false when the
// process chosen is gone.
func (c *client) hostPath(path string) (string, bool) {
	if c.fsPid <= 0 || !filepath.IsAbs(path) {
		return path, true
	}
	p := c.s.proc
	if p == nil || p.pid != c.fsPid || p.root == nil {
		return "", false
	}
	root, err := p.root.FileRoot()
	switch {
	case err != nil:
		return "", false
	case root == "/":
		return path, true
	}
	return root + path, true // not Join: the kernel resolves the whole path, as gdb gave it
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
