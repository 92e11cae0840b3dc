package linux

import (
	"fmt"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/procfs"
)

// coreFiles keeps open the stat files (/proc/PID/task/TID/stat) of the
// threads whose core was asked for last, so that the core of a thread
// that stops again costs one pread(2): the server sends it in every stop
// reply (core:N), as GNU gdbserver does. Open, read and close cost
// more than a pread of the open file (the kernel formats the whole line
// either way): BenchmarkThreadCore measures both. At most maxCoreFiles are kept: a thread list of a
// thousand threads reads each once and keeps none for good. The files
// are the owner's, like the rest of the Process; a thread that has
// exited reads as an error (the file is bound to the task, not to its
// tid, which another process may get).
type coreFiles struct {
	fds   map[int]int // tid -> descriptor
	order []int       // tids, oldest first
}

// maxCoreFiles bounds the descriptors kept per process.
const maxCoreFiles = 16

// core reads the processor field of thread tid's stat.
func (c *coreFiles) core(pid, tid int) (int, bool) {
	fd, ok := c.fds[tid]
	if !ok {
		var err error
		fd, err = unix.Open(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, false
		}
		c.keep(tid, fd)
	}
	var buf [2048]byte
	n, err := unix.Pread(fd, buf[:], 0)
	for err == unix.EINTR {
		n, err = unix.Pread(fd, buf[:], 0)
	}
	if err != nil {
		c.drop(tid) // the thread has exited
		return 0, false
	}
	st, err := procfs.ParseStat(string(buf[:n]))
	if err != nil {
		return 0, false
	}
	cpu, ok := st.Int(procfs.StatProcessor)
	return int(cpu), ok && cpu >= 0
}

// keep records a new descriptor, closing the oldest beyond the bound.
func (c *coreFiles) keep(tid, fd int) {
	if c.fds == nil {
		c.fds = map[int]int{}
	}
	if len(c.order) >= maxCoreFiles {
		c.drop(c.order[0])
	}
	c.fds[tid] = fd
	c.order = append(c.order, tid)
}

// drop closes a thread's descriptor.
func (c *coreFiles) drop(tid int) {
	fd, ok := c.fds[tid]
	if !ok {
		return
	}
	unix.Close(fd)
	delete(c.fds, tid)
	for i, t := range c.order {
		if t == tid {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

// close closes every descriptor: the process has ended.
func (c *coreFiles) close() {
	for tid := range c.fds {
		unix.Close(c.fds[tid])
	}
	c.fds, c.order = nil, nil
}
