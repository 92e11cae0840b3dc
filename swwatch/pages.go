package swwatch

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/procfs"
	"gdbserverx/target"
)

// page is one page holding watched bytes.
type page struct {
	orig int // the program's own protection, or unmapped
	need int // the bits the watches on it remove (watch.need); 0: no watch left
	cur  int // the protection it has now, as the engine set it (orig when untouched)
	// stepped: the page cannot be protected (it holds a thread's rseq
	// area or thread descriptor, which the kernel writes behind the
	// program's back, or mprotect refused it): its watches are served by
	// single-stepping every thread (stepmode.go).
	stepped bool
	// open counts the system calls in flight that need the page open
	// (syscall.go): it stays unprotected until the last returns.
	open int
}

// want is the protection the page should have now.
func (pg *page) want() int {
	if pg.orig == unmapped || pg.stepped || pg.open > 0 || pg.need == 0 {
		return pg.orig
	}
	return pg.orig &^ pg.need
}

// protected says whether the engine has taken bits from the page, so
// that a fault there may be one of the engine's.
func (pg *page) protected() bool { return pg.orig != unmapped && pg.cur != pg.orig }

// closed is the protection the page has while no system call needs it
// open.
func (pg *page) closed() int {
	if pg.orig == unmapped || pg.stepped || pg.need == 0 {
		return pg.orig
	}
	return pg.orig &^ pg.need
}

// denies says whether the engine's protection of the page stops a
// kernel access that the program's own protection allows: the access
// would fail with EFAULT. It is judged on the closed protection, not the
// current one: a page open for one call closes when that call returns,
// and another call in flight needs its own claim on it.
func (pg *page) denies(write bool) bool {
	bit := protRead
	if write {
		bit = protWrite
	}
	return pg.orig != unmapped && pg.orig&bit != 0 && pg.closed()&bit == 0
}

// ours says whether a protection fault (SEGV_ACCERR) in the page may be
// the engine's: it is a mapped watched page. The fault may have been
// raised while the page was protected and be served after a system
// call of another thread opened it; and if the program's own protection
// refuses the access, stepping the instruction with the page open to
// that protection raises the program's own fault, which is reported.
func (pg *page) ours() bool { return pg.orig != unmapped && pg.closed() != pg.orig }

// rebuildPages recomputes which pages the watches cover and what they
// need, keeping what is known of pages already covered. Pages newly
// covered take the program's protection from /proc/PID/maps, and are
// stepped when the kernel writes them on its own (tcbPages).
func (e *engine) rebuildPages() error {
	for _, pg := range e.pages {
		pg.need = 0
	}
	var fresh []uint64
	for i := range e.watches {
		w := &e.watches[i]
		for a := pageOf(w.Addr); a < w.End(); a += pageSize {
			pg := e.pages[a]
			if pg == nil {
				pg = &page{orig: unmapped, cur: unmapped}
				e.pages[a] = pg
				fresh = append(fresh, a)
			}
			pg.need |= w.need()
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	maps, err := readMaps(e.p.pid)
	if err != nil {
		return mapsError(err)
	}
	e.noteMaps(maps)
	e.shadowStack = hasShadowStack(e.p.pid)
	tcb, err := e.tcbPages()
	if err != nil {
		return err
	}
	for _, a := range fresh {
		pg := e.pages[a]
		pg.orig = protAt(maps, a)
		pg.cur = pg.orig
		if tcb[a] || e.inVDSO(a) {
			pg.stepped = true
		}
	}
	return nil
}

// tcbWindow is how far past a thread's thread pointer (fs_base) the
// kernel may write on its own: glibc's struct pthread (with the tid that
// the kernel clears when the thread exits, CLONE_CHILD_CLEARTID) and the
// rseq area registered in it (glibc 2.36: __rseq_offset 2336, 32 bytes),
// whose cpu_id the kernel updates at every return to user mode after a
// migration: on a protected page that update fails and the kernel kills
// the program with SIGSEGV (kernel/rseq.c).
const tcbWindow = 4096

// tcbPages returns the pages within tcbWindow of a thread's thread
// pointer.
func (e *engine) tcbPages() (map[uint64]bool, error) {
	ths, err := e.p.inner.Threads()
	if err != nil {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, th := range ths {
		r, err := e.regs(th.Tid)
		if err != nil {
			if errors.Is(err, target.ErrNoThread) {
				continue
			}
			return nil, err
		}
		// A thread stopped on its way out of an interrupted call that
		// restarts as restart_syscall (seen before the engine traced
		// system calls).
		e.noteRestart(th.Tid, r)
		tp := r.Reg(fsBaseReg)
		if tp == 0 {
			continue
		}
		for a := pageOf(tp); a < tp+tcbWindow; a += pageSize {
			out[a] = true
		}
	}
	return out, nil
}

// applyPages brings every page to the protection it should have, with
// one injected mprotect per run of adjacent pages wanting the same, and
// forgets pages that no watch covers any more. A page that mprotect
// refuses is stepped instead.
func (e *engine) applyPages() error {
	var todo []uint64
	for a, pg := range e.pages {
		if pg.orig != unmapped && pg.cur != pg.want() {
			todo = append(todo, a)
		}
	}
	slices.Sort(todo)
	for i := 0; i < len(todo); {
		j := i + 1
		prot := e.pages[todo[i]].want()
		for j < len(todo) && todo[j] == todo[j-1]+pageSize && e.pages[todo[j]].want() == prot {
			j++
		}
		err := e.mprotect(todo[i], uint64(j-i)*pageSize, prot)
		if err == nil {
			for _, a := range todo[i:j] {
				e.pages[a].cur = prot
			}
		} else if !errors.Is(err, errRefused) {
			return err
		} else {
			// One page at a time, to find the one refused.
			for _, a := range todo[i:j] {
				pg := e.pages[a]
				if err := e.mprotect(a, pageSize, pg.want()); err == nil {
					pg.cur = pg.want()
				} else if errors.Is(err, errRefused) {
					e.note(NoteStepped, 0, 0, fmt.Sprintf("page %#x: %v: watched by single-stepping", a, err))
					pg.stepped = true
					if pg.cur != pg.orig {
						e.mprotect(a, pageSize, pg.orig)
						pg.cur = pg.orig
					}
				} else {
					return err
				}
			}
		}
		i = j
	}
	for a, pg := range e.pages {
		if pg.need == 0 && pg.open == 0 && (pg.orig == unmapped || pg.cur == pg.orig) {
			delete(e.pages, a)
		}
	}
	e.updateStepMode()
	return nil
}

// errRefused: the kernel refused an injected system call (its errno is
// wrapped).
var errRefused = errors.New("refused")

// mprotect changes the protection of [addr, addr+n) in the process.
func (e *engine) mprotect(addr, n uint64, prot int) error {
	e.p.stats.mprotects++
	v, err := e.syscall(unix.SYS_MPROTECT, addr, n, uint64(prot))
	if err != nil {
		return fmt.Errorf("mprotect %#x+%d: %w", addr, n, err)
	}
	if int64(v) < 0 {
		return fmt.Errorf("mprotect %#x+%d %#x: %w: %w", addr, n, prot, errRefused, unix.Errno(-int64(v)))
	}
	return nil
}

// syscall runs a system call in the stopped process: in a thread in
// user mode if there is one; otherwise in a thread at a syscall-entry
// stop, in place of its call, which is rewound to run afterwards.
func (e *engine) syscall(nr int, args ...uint64) (uint64, error) {
	e.p.stats.injected++
	v, err := e.p.runner.InjectSyscall(0, nr, args...)
	if err == nil || errors.Is(err, target.ErrExited) {
		return v, err
	}
	for tid := range e.atEntry {
		return e.replaceCall(tid, nr, args...)
	}
	return v, err
}

// replaceCall runs system call nr in thread tid, which is at a
// syscall-entry stop, instead of its own call; then it rewinds the
// thread to the syscall instruction, so that its own call is made when
// it resumes (with a new entry stop). See target.StopSyscallEntry.
func (e *engine) replaceCall(tid target.Tid, nr int, args ...uint64) (uint64, error) {
	r, err := e.regs(tid)
	if err != nil {
		return 0, err
	}
	saved := slices.Clone(r.buf)
	r.setOrigRAX(uint64(nr))
	for i, reg := range syscallArgRegs {
		v := uint64(0)
		if i < len(args) {
			v = args[i]
		}
		r.set(reg, v)
	}
	if err := e.p.inner.WriteRegisters(tid, r.buf); err != nil {
		return 0, err
	}
	st, err := e.p.runner.StepThread(tid, 0)
	if err != nil {
		return 0, err
	}
	if st.Reason != target.StopDebug {
		return 0, fmt.Errorf("system call %d in place of thread %d's: stopped by %v", nr, tid, st.Reason)
	}
	r, err = e.regs(tid)
	if err != nil {
		return 0, err
	}
	v := r.Reg(raxReg)
	// Back before the syscall instruction, with the call's number in rax
	// (the kernel's restart of an interrupted call does the same).
	sv := &regs{l: e.p.layout, buf: saved}
	sv.set(ripReg, sv.pc()-syscallInsnLen)
	sv.set(raxReg, sv.origRAX())
	if err := e.p.inner.WriteRegisters(tid, saved); err != nil {
		return 0, err
	}
	delete(e.atEntry, tid)
	return v, nil
}

// hasShadowStack says whether the process runs with a user shadow stack
// (CET): /proc/PID/status lists "shstk" in x86_Thread_features (Linux
// 6.6 and later; without the line, there is none).
func hasShadowStack(pid int) bool {
	st, err := procfs.ReadStatus(pid)
	if err != nil {
		return false
	}
	return slices.Contains(st.Words("x86_Thread_features"), "shstk")
}

// mapsError is the error of a failed read of /proc/PID/maps: the end of
// the process, when the file is gone.
func mapsError(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("read memory map: %w (%w)", target.ErrExited, err)
	}
	return fmt.Errorf("read memory map: %w", err)
}
