package server

import (
	"errors"
	"fmt"
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
		if !s.allowedFS(int(r.Pid)) {
			s.refuseFile(c, req, &confinedError{path: fmt.Sprintf("/proc/%d/root", r.Pid), reason: "not the program's filesystem"})
			return
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
		f, err := s.openHost(c, r.Path, flags, os.FileMode(r.Mode&0o777))
		if err != nil {
			s.refuseFile(c, req, err)
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
		target, err := s.readlinkHost(c, r.Path)
		if err != nil {
			s.refuseFile(c, req, err)
			return
		}
		c.reply(rsp.AppendFileData(c.scratch(), []byte(target)))
	case *rsp.FileUnlink:
		if err := s.unlinkHost(c, r.Path); err != nil {
			s.refuseFile(c, req, err)
			return
		}
		c.reply(rsp.AppendFileResult(c.scratch(), 0))
	}
}

// refuseFile answers a vFile request that failed with the File-I/O
// errno of err; a path outside the confinement (confine.go) is also
// logged and recorded in --event-log, but for gdb's probe of vFile.
func (s *Server) refuseFile(c *client, req rsp.Request, err error) {
	var ce *confinedError
	switch {
	case !errors.As(err, &ce):
	case ce.probe:
		s.debugf("client #%d: %s %s: %s", c.id, req.PacketName(), ce.path, ce.reason)
	default:
		s.logf("Client #%d (%s): refused %s %s: %s (widen with --vfile-root DIR or --vfile-any)", c.id, c.peer, req.PacketName(), ce.path, ce.reason)
		s.logRefusal(refusalRecord{Refused: req.PacketName(), Client: c.id, Peer: c.peer, Role: c.role.String(), Path: ce.path, Text: ce.reason})
	}
	c.reply(rsp.AppendFileError(c.scratch(), fileioErrno(err)))
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
