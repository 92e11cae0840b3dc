package server

import (
	"errors"
	"fmt"
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
		f, err := os.OpenFile(c.hostPath(r.Path), flags|syscall.O_CLOEXEC, os.FileMode(r.Mode&0o777))
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
		target, err := os.Readlink(c.hostPath(r.Path))
		if err != nil {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		c.reply(rsp.AppendFileData(c.scratch(), []byte(target)))
	case *rsp.FileUnlink:
		if err := os.Remove(c.hostPath(r.Path)); err != nil {
			c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
			return
		}
		c.reply(rsp.AppendFileResult(c.scratch(), 0))
	}
}

// hostPath resolves a path in the filesystem vFile:setfs chose: a
// process's root (/proc/PID/root), so that gdb reads the files a process
// in a container sees, or the server's own for 0.
func (c *client) hostPath(p string) string {
	if c.fsPid <= 0 || !filepath.IsAbs(p) {
		return p
	}
	root := fmt.Sprintf("/proc/%d/root", c.fsPid)
	if link, err := os.Readlink(root); err == nil && link == "/" {
		return p
	}
	return root + p
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
