package linux

import (
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

const int3 = 0xcc

// memory is the debuggee's address space as the debugger sees it: reads
// and writes while the process runs or is stopped, and the software
// breakpoints, whose int3 bytes it hides. Like the rest of the Process,
// it belongs to the Tracer's thread.
type memory struct {
	pid int // immutable

	// file is /proc/PID/mem of the current image; replaced at exec
	// (the open file keeps the old address space), nil after the end.
	file *memFile
	// bps maps each inserted address to the original byte; addrs is the
	// same set, sorted, for range lookups.
	bps   map[uint64]byte
	addrs []uint64
	// lifted: the int3 bytes are out of memory (a vfork child shares it
	// and runs without tracing) but the table is kept; they go back in
	// at the end of the vfork.
	lifted bool
	// removals counts the breakpoints removed; removed holds, for the
	// last ones, their count at removal (removedSince).
	removals uint64
	removed  map[uint64]uint64
}

func openMemory(pid int) (*memory, error) {
	f, err := openMemFile(pid)
	if err != nil {
		return nil, err
	}
	return &memory{pid: pid, file: f, bps: map[uint64]byte{}}, nil
}

// errMemoryClosed: the process is gone.
var errMemoryClosed = fmt.Errorf("process memory: %w", target.ErrExited)

// read reads len(buf) bytes at addr: first with process_vm_readv (one
// system call, no file offset), then, for what it could not read (pages
// without read permission), with pread on /proc/PID/mem, which reads them
// as ptrace would. Inserted breakpoints show their original bytes.
func (m *memory) read(addr uint64, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	if m.file == nil {
		return 0, errMemoryClosed
	}
	n := 0
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	if r, _, e := syscall.RawSyscall6(unix.SYS_PROCESS_VM_READV, uintptr(m.pid),
		uintptr(unsafe.Pointer(&local[0])), 1, uintptr(unsafe.Pointer(&remote[0])), 1, 0); e == 0 {
		n = int(r)
	}
	var err error
	for n < len(buf) {
		r, e := m.file.ReadAt(buf[n:], int64(addr)+int64(n))
		n += r
		if e != nil {
			err = e
			break
		}
	}
	if n > 0 && !m.lifted {
		m.mask(addr, buf[:n])
	}
	if n < len(buf) {
		if err == nil {
			err = unix.EIO
		}
		return n, fmt.Errorf("read memory at %#x: %w", addr+uint64(n), err)
	}
	return n, nil
}

// mask replaces inserted int3 bytes in b (memory at addr) with the
// original bytes.
func (m *memory) mask(addr uint64, b []byte) {
	end := addr + uint64(len(b))
	i, _ := slices.BinarySearch(m.addrs, addr)
	for ; i < len(m.addrs) && m.addrs[i] < end; i++ {
		a := m.addrs[i]
		b[a-addr] = m.bps[a]
	}
}

// write writes data at addr through /proc/PID/mem (which writes read-only
// code pages too). Bytes falling on an inserted breakpoint update its
// saved original; the int3 stays.
func (m *memory) write(addr uint64, data []byte) (int, error) {
	if len(data) == 0 {
		return 0, nil
	}
	if m.file == nil {
		return 0, errMemoryClosed
	}
	end := addr + uint64(len(data))
	i, _ := slices.BinarySearch(m.addrs, addr)
	if i < len(m.addrs) && m.addrs[i] < end {
		data = slices.Clone(data)
		for ; i < len(m.addrs) && m.addrs[i] < end; i++ {
			a := m.addrs[i]
			m.bps[a] = data[a-addr]
			if !m.lifted {
				data[a-addr] = int3
			}
		}
	}
	n, err := m.file.WriteAt(data, int64(addr))
	if err != nil {
		return n, fmt.Errorf("write memory at %#x: %w", addr+uint64(n), err)
	}
	return n, nil
}

// insert patches an int3 at addr and saves the original byte. Inserting
// an address twice is harmless.
func (m *memory) insert(addr uint64) error {
	if m.file == nil {
		return errMemoryClosed
	}
	if _, ok := m.bps[addr]; ok {
		return nil
	}
	var orig [1]byte
	if _, err := m.file.ReadAt(orig[:], int64(addr)); err != nil {
		return fmt.Errorf("insert breakpoint at %#x: %w", addr, err)
	}
	if !m.lifted {
		if _, err := m.file.WriteAt([]byte{int3}, int64(addr)); err != nil {
			return fmt.Errorf("insert breakpoint at %#x: %w", addr, err)
		}
	}
	m.bps[addr] = orig[0]
	i, _ := slices.BinarySearch(m.addrs, addr)
	m.addrs = slices.Insert(m.addrs, i, addr)
	return nil
}

// remove restores the original byte at addr. Removing an address that
// holds no breakpoint (one an exec swept away, say) is harmless.
func (m *memory) remove(addr uint64) error {
	if m.file == nil {
		return errMemoryClosed
	}
	orig, ok := m.bps[addr]
	if !ok {
		return nil
	}
	if !m.lifted {
		if _, err := m.file.WriteAt([]byte{orig}, int64(addr)); err != nil {
			return fmt.Errorf("remove breakpoint at %#x: %w", addr, err)
		}
	}
	delete(m.bps, addr)
	i, _ := slices.BinarySearch(m.addrs, addr)
	m.addrs = slices.Delete(m.addrs, i, i+1)
	m.removals++
	if m.removed == nil || len(m.removed) >= maxRemembered {
		m.removed = map[uint64]uint64{}
	}
	m.removed[addr] = m.removals
	return nil
}

// maxRemembered bounds the breakpoint removals remembered for
// removedSince: a thread that has run since so many removals without a
// stop is rare, and then a stray int3 is reported as a SIGTRAP.
const maxRemembered = 256

// removedSince says whether a breakpoint at addr was removed after the
// removal count since: a thread that resumed before may have executed
// its int3 (non-stop: breakpoints come and go while threads run).
func (m *memory) removedSince(addr, since uint64) bool {
	n, ok := m.removed[addr]
	return ok && n > since && !m.isBreakpoint(addr)
}

// isBreakpoint says whether an int3 of ours is at addr now.
func (m *memory) isBreakpoint(addr uint64) bool {
	_, ok := m.bps[addr]
	return ok && !m.lifted
}

// hasBreakpoints says whether any breakpoint is inserted.
func (m *memory) hasBreakpoints() bool {
	return len(m.bps) > 0
}

// restoreIn writes the original bytes of every breakpoint into another
// process's memory: a fork child, which got a copy of ours.
func (m *memory) restoreIn(pid int) error {
	if len(m.bps) == 0 || m.lifted {
		return nil
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", pid), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for a, b := range m.bps {
		if _, err := f.WriteAt([]byte{b}, int64(a)); err != nil {
			return fmt.Errorf("restore breakpoint at %#x in process %d: %w", a, pid, err)
		}
	}
	return nil
}

// rewrite writes every int3 again (after a followed vfork, whose child
// may have taken some out of the memory both shared).
func (m *memory) rewrite() error {
	if m.lifted || m.file == nil {
		return nil
	}
	var first error
	for a := range m.bps {
		if _, err := m.file.WriteAt([]byte{int3}, int64(a)); err != nil && first == nil {
			first = fmt.Errorf("breakpoint at %#x: %w", a, err)
		}
	}
	return first
}

// lift takes every int3 out of memory and keeps the table (vfork: the
// child shares this memory and is not traced). unlift puts them back.
func (m *memory) lift() error   { return m.setLifted(true) }
func (m *memory) unlift() error { return m.setLifted(false) }

func (m *memory) setLifted(lifted bool) error {
	if m.lifted == lifted || m.file == nil {
		return nil
	}
	var first error
	for a, b := range m.bps {
		v := b
		if !lifted {
			v = int3
		}
		if _, err := m.file.WriteAt([]byte{v}, int64(a)); err != nil && first == nil {
			first = fmt.Errorf("breakpoint at %#x: %w", a, err)
		}
	}
	m.lifted = lifted
	return first
}

// removeAll restores every original byte and forgets the breakpoints
// (detach).
func (m *memory) removeAll() error {
	if err := m.lift(); err != nil {
		return err
	}
	clear(m.bps)
	m.addrs = m.addrs[:0]
	m.lifted = false
	return nil
}

// reset follows an exec: a new address space, no breakpoints.
func (m *memory) reset() error {
	f, err := openMemFile(m.pid)
	if m.file != nil {
		m.file.Close()
	}
	m.file = f
	clear(m.bps)
	m.addrs = m.addrs[:0]
	m.lifted = false
	if err != nil {
		m.file = nil
		return err
	}
	return nil
}

// close ends access (the process is gone or detached).
func (m *memory) close() {
	if m.file != nil {
		m.file.Close()
		m.file = nil
	}
}

// rawSwap writes data at addr as it is, past the breakpoint table, and
// returns the raw bytes it replaced (an int3 of ours among them stays
// in the saved copy): for a syscall instruction written over a PC for
// the duration of an injected call.
func (m *memory) rawSwap(addr uint64, data []byte) ([]byte, error) {
	if m.file == nil {
		return nil, errMemoryClosed
	}
	old := make([]byte, len(data))
	if _, err := m.file.ReadAt(old, int64(addr)); err != nil {
		return nil, err
	}
	if _, err := m.file.WriteAt(data, int64(addr)); err != nil {
		return nil, err
	}
	return old, nil
}

// rawWrite puts back bytes saved by rawSwap.
func (m *memory) rawWrite(addr uint64, data []byte) error {
	if m.file == nil {
		return errMemoryClosed
	}
	_, err := m.file.WriteAt(data, int64(addr))
	return err
}

// memFile is /proc/PID/mem, read and written with raw pread and pwrite
// (see ptrace.go: the calls of every stop are raw).
type memFile struct{ fd int }

func openMemFile(pid int) (*memFile, error) {
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/mem", pid), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: fmt.Sprintf("/proc/%d/mem", pid), Err: err}
	}
	return &memFile{fd: fd}, nil
}

// ReadAt reads len(b) bytes at off, as os.File.ReadAt does: less only
// with an error (io.EOF past the end).
func (f *memFile) ReadAt(b []byte, off int64) (int, error) {
	return f.rw(unix.SYS_PREAD64, b, off)
}

// WriteAt writes b at off, as os.File.WriteAt does.
func (f *memFile) WriteAt(b []byte, off int64) (int, error) {
	return f.rw(unix.SYS_PWRITE64, b, off)
}

func (f *memFile) rw(nr uintptr, b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		r, _, e := syscall.RawSyscall6(nr, uintptr(f.fd), uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n), uintptr(off+int64(n)), 0, 0)
		switch {
		case e == unix.EINTR:
			continue
		case e != 0:
			return n, e
		case r == 0:
			return n, io.EOF
		}
		n += int(r)
	}
	return n, nil
}

func (f *memFile) Close() error { return unix.Close(f.fd) }
