package linux

import (
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/procfs"
)

// statFiles reads the CPU each thread last ran on (field 39, processor,
// of /proc/PID/task/TID/stat) for ThreadCore, which the server asks at
// every stop (core:N in each stop reply, as gdbserver gives it). The
// stat file of a thread that stops is kept open and read again from its
// start with pread(2), a raw system call (no trip through the
// scheduler, as memory.go's): the kernel makes the file anew at each
// read at offset 0. An open, a read and a close each time cost the
// server 17-20 us of CPU per stepi (bench stepi, 2 vCPUs); the kept file
// a few. At most maxStatFiles stay open: past that all are closed and
// opened again as threads stop. A thread that has exited answers an
// error and its file is closed. All are closed at the process's end
// (Process.end). Owned by the Tracer's thread, as the rest of the
// Process.
type statFiles struct {
	fds map[int]int // tid -> fd
}

// maxStatFiles bounds the stat files kept open per process.
const maxStatFiles = 32

// core returns the processor field of thread tid of process pid.
func (s *statFiles) core(pid, tid int) (int, bool) {
	var buf [2048]byte
	if fd, ok := s.fds[tid]; ok {
		if n, ok := preadStat(fd, buf[:]); ok {
			return processorOf(buf[:n])
		}
		unix.Close(fd)
		delete(s.fds, tid)
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/task/"+strconv.Itoa(tid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	n, ok := preadStat(fd, buf[:])
	if !ok {
		unix.Close(fd)
		return 0, false
	}
	if len(s.fds) >= maxStatFiles {
		s.close()
	}
	if s.fds == nil {
		s.fds = map[int]int{}
	}
	s.fds[tid] = fd
	return processorOf(buf[:n])
}

// close closes every file kept.
func (s *statFiles) close() {
	for tid, fd := range s.fds {
		unix.Close(fd)
		delete(s.fds, tid)
	}
}

// preadStat reads a stat file from its start, in one read (the kernel
// makes a stat file whole at once).
func preadStat(fd int, buf []byte) (int, bool) {
	for {
		n, _, e := syscall.RawSyscall6(unix.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		return int(n), e == 0 && n > 0
	}
}

// processorOf picks the processor field out of a stat file's text.
func processorOf(b []byte) (int, bool) {
	st, err := procfs.ParseStat(string(b))
	if err != nil {
		return 0, false
	}
	cpu, ok := st.Int(procfs.StatProcessor)
	return int(cpu), ok && cpu >= 0
}
