package swwatch

import (
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// System calls while watches are set.
//
// The kernel's own accesses are not trapped by page protection: they
// fail. A call whose memory arguments fall in a protected page (a read
// into a watched buffer) would fail with EFAULT, so the engine stops at
// every syscall entry, and when a call needs protected pages it runs it
// with those pages open:
//
//   - a call that returns soon is run in place: the pages are opened,
//     the thread single-steps the call (StepThread from its entry stop)
//     while every other thread stays stopped, the pages are closed, and
//     the watched values are compared: a change is a write by the
//     kernel, reported at the PC after the syscall instruction. Nothing
//     else ran meanwhile, so it is exact (but for same-value writes);
//   - a call that may block (a read from a pipe, futex, poll) cannot stop
//     the world: the pages are opened and the call runs with the others
//     (NoteOpenSyscall); at its exit the values are compared and the
//     pages closed when no other call needs them;
//   - a call that changes the memory map (mmap, mprotect, munmap, brk,
//     mremap, madvise) where watched pages are concerned is run in
//     place, and the page table is brought up to date from
//     /proc/PID/maps before anything else runs: the program's own
//     protection is learnt, and the engine's put back.
//
// At every other exit the watched values are compared too: the kernel
// may write memory the engine does not protect (a stepped page).

// openCall is a system call in flight that needed pages open.
type openCall struct {
	nr    int
	pages []uint64
}

// maxRange bounds a range taken from a system call's arguments.
const maxRange = 1 << 30

// isRestartBlockExit says whether an exit may be that of a call to be
// restarted with restart_syscall: the calls that use a restart block.
func isRestartBlockExit(st target.ThreadStop) bool {
	switch st.Syscall {
	case unix.SYS_FUTEX, unix.SYS_NANOSLEEP, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_POLL, unix.SYS_PPOLL:
		return true
	}
	return false
}

// restart codes the kernel leaves in rax at the exit of an interrupted
// call that it restarts (include/linux/errno.h).
func isRestart(rax uint64) bool {
	v := int64(rax)
	return v <= -512 && v >= -516
}

// entry serves a syscall-entry stop.
func (e *engine) entry(st target.ThreadStop) ([]target.ThreadStop, error) {
	tid := st.Tid
	e.atEntry[tid] = true
	if e.open[tid] != nil {
		// The call the pages were opened for, entering (again, after a
		// restart): it runs.
		return e.callerEntry(st), nil
	}
	nr := st.Syscall
	info, known := sysTable[nr]
	if !known {
		info = sysInfo{class: clBlock}
	}
	if info.class == clPure {
		return e.callerEntry(st), nil
	}
	r, err := e.regs(tid)
	if err != nil {
		return nil, err
	}
	args := r.syscallArgs()
	if nr == unix.SYS_RESTART_SYSCALL {
		// The restart of a call interrupted with ERESTART_RESTARTBLOCK,
		// with the arguments the kernel kept: judge that call.
		if rc, ok := e.restarts[tid]; ok {
			delete(e.restarts, tid)
			if skip, errno := e.mustSkip(rc.nr, rc.args, r); skip {
				return e.skipCall(st, r, errno)
			}
			if pages := e.deniedPages(e.sysRanges(r, rc.nr, rc.args, sysTable[rc.nr])); len(pages) > 0 {
				// The calls that restart this way may block (a sleep, a
				// poll): the pages stay open until they return.
				if err := e.openFor(tid, rc.nr, pages); err != nil {
					return nil, err
				}
				e.note(NoteOpenSyscall, tid, st.PC, fmt.Sprintf("restarted system call %d: pages %#x open while it runs", rc.nr, pages))
				if !e.atEntry[tid] {
					return nil, nil // rewound: its entry comes again (openFor)
				}
			}
		}
		return e.callerEntry(st), nil
	}
	if skip, errno := e.mustSkip(nr, args, r); skip {
		return e.skipCall(st, r, errno)
	}
	if pages := e.forkPages(nr, args); len(pages) > 0 {
		return e.inPlace(st, nr, args, pages)
	}
	if info.class == clMM {
		if !e.mmConcerns(nr, args) {
			return e.callerEntry(st), nil
		}
		return e.inPlace(st, nr, args, nil)
	}
	pages := e.deniedPages(e.sysRanges(r, nr, args, info))
	if len(pages) == 0 {
		return e.callerEntry(st), nil
	}
	if info.class == clPlain || info.class == clBlockFD && !e.fdBlocks(args[0]) {
		return e.inPlace(st, nr, args, pages)
	}
	if err := e.openFor(tid, nr, pages); err != nil {
		return nil, err
	}
	e.note(NoteOpenSyscall, tid, st.PC, fmt.Sprintf("system call %d may block: pages %#x open while it runs", nr, pages))
	if !e.atEntry[tid] {
		// Opening the pages took the thread back before its syscall
		// instruction (the process had no other thread to run mprotect:
		// replaceCall): the call enters again, and the caller is told
		// of that entry, once.
		return nil, nil
	}
	return e.callerEntry(st), nil
}

// futexWaitOps are the futex operations that only read the word and
// sleep (FUTEX_WAIT, FUTEX_WAIT_BITSET).
func isFutexWait(args [6]uint64) bool {
	op := args[1] & 127
	return op == 0 || op == 9
}

// mustSkip says whether a call must not reach the kernel, and what it
// returns instead: a futex wait on a page whose protection denies the
// kernel its read (the page of a read or access watch). Opening the page
// for the wait would let the other threads' accesses through unseen for
// as long as it sleeps; instead the wait returns EAGAIN ("the value
// changed"), which every caller takes as a spurious wake-up and retries:
// the waiting thread polls, through its own faulting accesses to the
// word, until the lock or condition it waits for is free. Exact, at the
// cost of the polling.
func (e *engine) mustSkip(nr int, args [6]uint64, r *regs) (bool, unix.Errno) {
	if nr != unix.SYS_FUTEX || !isFutexWait(args) {
		return false, 0
	}
	pg := e.pages[pageOf(args[0])]
	return pg != nil && pg.denies(false), unix.EAGAIN
}

// skipCall makes the call of a thread at its entry stop return -errno
// without running (target.StopSyscallEntry: orig_rax -1).
func (e *engine) skipCall(st target.ThreadStop, r *regs, errno unix.Errno) ([]target.ThreadStop, error) {
	e.p.stats.skipped++
	r.setOrigRAX(^uint64(0))
	r.set(raxReg, uint64(-int64(errno)))
	if err := e.p.inner.WriteRegisters(st.Tid, r.buf); err != nil {
		return nil, err
	}
	return e.callerEntry(st), nil
}

// restartCall is a call interrupted with ERESTART_RESTARTBLOCK: it comes
// back as restart_syscall, with the arguments the kernel kept.
type restartCall struct {
	nr   int
	args [6]uint64
}

const errRestartBlock = 516 // ERESTART_RESTARTBLOCK

const sysRestartSyscall = unix.SYS_RESTART_SYSCALL

// noteRestart records the call a thread stopped in will be restarted
// with restart_syscall (r: its registers at a stop on the way out of
// the call).
func (e *engine) noteRestart(tid target.Tid, r *regs) {
	if int64(r.Reg(raxReg)) == -errRestartBlock && int64(r.origRAX()) >= 0 {
		e.restarts[tid] = restartCall{nr: int(r.origRAX()), args: r.syscallArgs()}
	}
}

// forkPages returns the pages a call that makes a new process must run
// with open: every page the engine protects. The child gets a copy of
// the memory map (or shares it, until its exec, for vfork and
// posix_spawn) and is not traced: with the engine's protection it would
// die of SIGSEGV at its first access. The call runs in place, the other
// threads stopped, so nothing else runs while the pages are open (but
// the vfork child, which runs until its exec or exit, untraced as a
// child always is).
func (e *engine) forkPages(nr int, args [6]uint64) []uint64 {
	const cloneVM, cloneThread = 0x100, 0x10000
	switch nr {
	case unix.SYS_FORK, unix.SYS_VFORK:
	case unix.SYS_CLONE:
		if args[0]&cloneThread != 0 {
			return nil
		}
	case unix.SYS_CLONE3:
		var b [8]byte
		if _, err := e.p.inner.ReadMemory(args[0], b[:]); err != nil || le.Uint64(b[:])&cloneThread != 0 {
			return nil
		}
	default:
		return nil
	}
	var out []uint64
	for a, pg := range e.pages {
		if pg.ours() {
			out = append(out, a)
		}
	}
	return out
}

// callerSyscalls are the syscall stops the caller asked for: every exit
// (SyscallTracer), every entry (SyscallEntryTracer), and both of the
// calls it catches (SyscallCatcher). The engine's own stops, which it
// makes while watches are set, reach the caller only if it asked for
// them; a stop it asked for reaches it whatever the engine does.
type callerSyscalls struct {
	exits, entries bool
	caught         target.SyscallSet
}

func (c callerSyscalls) entry(nr int) bool { return c.entries || c.caught.Has(nr) }
func (c callerSyscalls) exit(nr int) bool  { return c.exits || c.caught.Has(nr) }

// callerEntry is what the caller sees of an entry stop: itself, if it
// asked for it.
func (e *engine) callerEntry(st target.ThreadStop) []target.ThreadStop {
	if e.caller.entry(st.Syscall) {
		return []target.ThreadStop{st}
	}
	return nil
}

// inPlace runs the call of thread st.Tid, at its entry stop, while the
// other threads stay stopped, with pages open for it. A caller that asked
// for the call's entry gets the entry stop and, after it, the exit's
// (or the signal the call raised) in the same event: it is told the
// entry with the call already made (rax holds its result, not -ENOSYS),
// and a change it makes to the call's registers at the entry comes too
// late. That is the price of a call that must run with the world
// stopped; the other calls stop at their entries as they are.
func (e *engine) inPlace(st target.ThreadStop, nr int, args [6]uint64, pages []uint64) ([]target.ThreadStop, error) {
	tid := st.Tid
	e.p.stats.inPlace++
	for _, pa := range pages {
		e.pages[pa].open++
	}
	err := e.protectRuns(pages, (*page).want)
	var s target.ThreadStop
	if err == nil {
		// From the entry stop (or, if opening the pages took the thread
		// back before its syscall instruction, from there) one step runs
		// the call.
		e.p.stats.steps++
		s, err = e.p.runner.StepThread(tid, 0)
		delete(e.atEntry, tid)
	}
	for _, pa := range pages {
		e.pages[pa].open--
	}
	if cerr := e.protectRuns(pages, (*page).want); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if s.Reason != target.StopDebug {
		return append(e.callerEntry(st), s), nil // a signal from the call (SIGSYS, SIGXFSZ...)
	}
	r, err := e.regs(tid)
	if err != nil {
		return nil, err
	}
	if sysTable[nr].class == clMM {
		if err := e.afterMM(nr, args, r.Reg(raxReg)); err != nil {
			return nil, err
		}
	}
	hits := e.kernelHits(nr, args, r.Reg(raxReg), nil)
	exit := e.callerExit(target.ThreadStop{Tid: tid, Reason: target.StopSyscallExit, Signal: target.SIGTRAP, PC: s.PC, Syscall: nr}, hits)
	return append(e.callerEntry(st), exit...), nil
}

// openFor opens pages for the call of thread tid until its exit.
func (e *engine) openFor(tid target.Tid, nr int, pages []uint64) error {
	e.p.stats.openSyscalls++
	for _, pa := range pages {
		e.pages[pa].open++
	}
	e.open[tid] = &openCall{nr: nr, pages: pages}
	return e.protectRuns(pages, (*page).want)
}

// closeCall ends the open call of tid: its pages close when no other
// call needs them, and its writes are found.
func (e *engine) closeCall(tid target.Tid, oc *openCall) ([]target.WatchHit, error) {
	r, err := e.regs(tid)
	if err != nil {
		return nil, err
	}
	delete(e.open, tid)
	for _, pa := range oc.pages {
		if pg := e.pages[pa]; pg != nil && pg.open > 0 {
			pg.open--
		}
	}
	var live []uint64
	for _, pa := range oc.pages {
		if e.pages[pa] != nil {
			live = append(live, pa)
		}
	}
	if err := e.protectRuns(live, (*page).want); err != nil {
		return nil, err
	}
	return e.kernelHits(oc.nr, r.syscallArgs(), r.Reg(raxReg), oc.pages), nil
}

// exit serves a syscall-exit stop.
func (e *engine) exit(st target.ThreadStop) ([]target.ThreadStop, error) {
	tid := st.Tid
	if isRestartBlockExit(st) {
		if r, err := e.regs(tid); err == nil {
			e.noteRestart(tid, r)
		}
	}
	if oc := e.open[tid]; oc != nil {
		r, err := e.regs(tid)
		if err != nil {
			return nil, err
		}
		if isRestart(r.Reg(raxReg)) {
			// Interrupted (by the stop of the world) and to be restarted:
			// the pages stay open for it.
			return e.callerExit(st, nil), nil
		}
		hits, err := e.closeCall(tid, oc)
		if err != nil {
			return nil, err
		}
		return e.callerExit(st, hits), nil
	}
	if info, ok := sysTable[st.Syscall]; ok && info.class == clPure {
		return e.callerExit(st, nil), nil
	}
	r, err := e.regs(tid)
	if err != nil {
		return nil, err
	}
	return e.callerExit(st, e.kernelHits(st.Syscall, r.syscallArgs(), r.Reg(raxReg), []uint64{})), nil
}

// callerExit is what the caller sees of a system call's exit: the exit
// stop with the hits, if it asked for exits; else the hits alone.
func (e *engine) callerExit(st target.ThreadStop, hits []target.WatchHit) []target.ThreadStop {
	if len(hits) > 0 {
		e.p.stats.hits += uint64(len(hits))
		e.p.stats.kernelWrites += uint64(len(hits))
	}
	switch {
	case e.caller.exit(st.Syscall):
		st.Watches = hits
		return []target.ThreadStop{st}
	case len(hits) > 0:
		return []target.ThreadStop{{Tid: st.Tid, Reason: target.StopWatch, Signal: target.SIGTRAP, PC: st.PC, Watches: hits}}
	}
	return nil
}

// deniedPages returns the protected pages in ranges that deny the
// kernel the access the range needs.
func (e *engine) deniedPages(ranges []insn.Access) []uint64 {
	var out []uint64
	for _, a := range ranges {
		for pa := pageOf(a.Addr); pa < a.End(); pa += pageSize {
			pg := e.pages[pa]
			if pg == nil || !(a.Write && pg.denies(true) || a.Read && pg.denies(false)) {
				continue
			}
			dup := false
			for _, x := range out {
				dup = dup || x == pa
			}
			if !dup {
				out = append(out, pa)
			}
		}
	}
	return out
}

// sysRanges returns the memory a call may touch: the table's ranges,
// and one byte at every argument that points into a protected page.
func (e *engine) sysRanges(r *regs, nr int, args [6]uint64, info sysInfo) []insn.Access {
	return e.sysRangesWith(processIO{p: e.p}, r, nr, args, info)
}

// sysRangesWith is sysRanges, reading memory through io.
func (e *engine) sysRangesWith(io emuIO, r *regs, nr int, args [6]uint64, info sysInfo) []insn.Access {
	var out []insn.Access
	add := func(addr, n uint64, d dir) {
		if addr == 0 || n == 0 || addr >= userLimit {
			return
		}
		n = min(n, maxRange, userLimit-addr)
		out = append(out, insn.Access{Addr: addr, Size: int(n), Read: d&dirR != 0, Write: d&dirW != 0})
	}
	word := func(a uint64, n int) uint64 {
		var b [8]byte
		if _, err := io.ReadMemory(a, b[:n]); err != nil {
			return 0
		}
		return le.Uint64(b[:])
	}
	iov := func(base, count uint64, d dir) {
		count = min(count, 1024)
		add(base, count*16, dirR)
		for i := uint64(0); i < count; i++ {
			add(word(base+16*i, 8), word(base+16*i+8, 8), d)
		}
	}
	for _, pa := range info.args {
		ptr := args[pa.arg]
		switch pa.size {
		case szFixed:
			add(ptr, uint64(pa.n), pa.dir)
		case szArg:
			add(ptr, args[pa.n], pa.dir)
		case szArgMul:
			add(ptr, args[pa.n]*uint64(pa.m), pa.dir)
		case szStr:
			add(ptr, strLen(io, ptr), pa.dir)
		case szIov:
			iov(ptr, args[pa.n], pa.dir)
		case szMsg:
			if ptr == 0 {
				continue
			}
			add(ptr, 56, dirRW)
			add(word(ptr, 8), word(ptr+8, 4), pa.dir)
			iov(word(ptr+16, 8), word(ptr+24, 8), pa.dir)
			add(word(ptr+32, 8), word(ptr+40, 8), pa.dir)
		case szLenPtr:
			if args[pa.n] != 0 {
				add(ptr, word(args[pa.n], 4), pa.dir)
			}
		case szFdset:
			add(ptr, (args[pa.n]+63)/64*8, pa.dir)
		case szIoctl:
			if n := iocSize(args[1]); n != 0 {
				add(ptr, n, iocDir(args[1]))
			} else {
				add(ptr, pageOf(ptr)+2*pageSize-ptr, dirRW)
			}
		case szPage:
			add(ptr, pageOf(ptr)+2*pageSize-ptr, pa.dir)
		}
	}
	if nr == unix.SYS_FUTEX {
		futexRanges(args, add)
	}
	if nr == unix.SYS_RT_SIGRETURN {
		// The signal frame: struct rt_sigframe and the xsave area after
		// it, from the return address the handler's ret popped.
		add(r.sp()-8, 16<<10, dirR)
	}
	if !exactArgs[nr] {
		for _, a := range args {
			if pg := e.pages[pageOf(a)]; pg != nil && pg.ours() {
				add(a, 1, dirRW)
			}
		}
	}
	return out
}

// written returns the ranges a call that returned ret wrote, as far as
// the table knows them (nil when it failed): a write there is reported
// even when it stored the bytes already there.
func (e *engine) written(nr int, args [6]uint64, ret uint64) []insn.Access {
	info, ok := sysTable[nr]
	if !ok || int64(ret) < 0 && int64(ret) >= -4095 {
		return nil
	}
	var out []insn.Access
	for _, pa := range info.args {
		ptr := args[pa.arg]
		var n uint64
		switch {
		case pa.dir&dirW == 0:
			continue
		case pa.size == szFixed:
			n = uint64(pa.n)
		case pa.size == szArg && pa.ret:
			n = min(ret, args[pa.n])
		case pa.size == szArgMul && pa.ret:
			n = min(ret, args[pa.n]) * uint64(pa.m)
		case pa.size == szArg:
			n = args[pa.n]
		case pa.size == szArgMul:
			n = args[pa.n] * uint64(pa.m)
		default:
			continue // nested or unknown: the compare finds its writes
		}
		if ptr != 0 && n != 0 && ptr < userLimit {
			out = append(out, insn.Access{Addr: ptr, Size: int(min(n, maxRange, userLimit-ptr)), Write: true})
		}
	}
	return out
}

// kernelHits are the hits of a call that returned ret: the ranges it is
// known to have written, and the watched values that changed where the
// call may have written them (see compareAfter).
func (e *engine) kernelHits(nr int, args [6]uint64, ret uint64, mine []uint64) []target.WatchHit {
	return e.kernelHitsWith(processIO{p: e.p}, nr, args, ret, mine)
}

// kernelHitsWith is kernelHits, reading memory through io.
func (e *engine) kernelHitsWith(io emuIO, nr int, args [6]uint64, ret uint64, mine []uint64) []target.WatchHit {
	var hits []target.WatchHit
	for _, h := range e.watches.hits(e.written(nr, args, ret), nil) {
		if h.Kind&target.WatchWrite != 0 {
			h.Kind = target.WatchWrite
			hits = append(hits, h)
		}
	}
	return e.watches.changed(io, func(w *watch) bool { return e.compareAfter(w, mine) }, hits)
}

// compareAfter says whether a change of w at the exit of a call counts
// as the call's write. The call is one that ran in place (mine: nil,
// everything counts: nothing else ran), or one that ran with the others
// (mine: the pages it had open). A change on a page that the engine
// protects cannot have been a write of the call without EFAULT, unless
// the page was open for it (mine); a change on a page open for another
// thread's call in flight is that call's, reported at its exit. What
// remains is a page the engine does not protect (a stepped page).
func (e *engine) compareAfter(w *watch, mine []uint64) bool {
	if mine == nil {
		return true
	}
	for a := pageOf(w.Addr); a < w.End(); a += pageSize {
		pg := e.pages[a]
		if pg == nil {
			continue
		}
		if slices.Contains(mine, a) || pg.open == 0 && pg.closed() == pg.orig {
			return true
		}
	}
	return false
}

// strLen is the length of the NUL-terminated string at a, with its NUL
// (at most 4 KiB).
func strLen(io emuIO, a uint64) uint64 {
	if a == 0 {
		return 0
	}
	var b [4096]byte
	n, _ := io.ReadMemory(a, b[:])
	for i := 0; i < n; i++ {
		if b[i] == 0 {
			return uint64(i + 1)
		}
	}
	return uint64(max(n, 1))
}

// fdBlocks says whether a read or write on fd may block: anything but a
// regular file or a directory may.
func (e *engine) fdBlocks(fd uint64) bool {
	fi, err := os.Stat(fmt.Sprintf("/proc/%d/fd/%d", e.p.pid, fd))
	if err != nil {
		return true
	}
	return !fi.Mode().IsRegular() && !fi.IsDir()
}

// mmConcerns says whether a memory-map call may change a watched page.
func (e *engine) mmConcerns(nr int, args [6]uint64) bool {
	anyUnmapped := false
	for _, pg := range e.pages {
		anyUnmapped = anyUnmapped || pg.orig == unmapped
	}
	over := func(lo, n uint64) bool {
		hi := lo + n
		for pa := range e.pages {
			if pa < hi && lo < pa+pageSize {
				return true
			}
		}
		return false
	}
	switch nr {
	case unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_PKEY_MPROTECT, unix.SYS_MADVISE:
		return over(args[0], args[1])
	case unix.SYS_MMAP:
		if args[3]&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0 {
			return over(args[0], args[1])
		}
		return anyUnmapped
	case unix.SYS_MREMAP:
		return over(args[0], args[1]) || anyUnmapped
	case unix.SYS_BRK:
		if e.brk == 0 || anyUnmapped {
			return true
		}
		lo, hi := min(e.brk, args[0]), max(e.brk, args[0])
		return args[0] != 0 && over(lo, hi-lo)
	}
	return true
}

// afterMM brings the page table up to date after a memory-map call that
// returned ret, and protects again.
func (e *engine) afterMM(nr int, args [6]uint64, ret uint64) error {
	maps, err := readMaps(e.p.pid)
	if err != nil {
		return mapsError(err)
	}
	oldBrk := e.brk
	e.noteMaps(maps)
	// The ranges the call set explicitly: a page there has the
	// protection the program asked for, even if it equals the engine's.
	var ranges [][2]uint64
	ok := int64(ret) >= 0 || int64(ret) < -4095
	switch nr {
	case unix.SYS_MPROTECT, unix.SYS_PKEY_MPROTECT, unix.SYS_MUNMAP:
		if ok {
			ranges = append(ranges, [2]uint64{args[0], args[0] + args[1]})
		}
	case unix.SYS_MMAP:
		if ok {
			ranges = append(ranges, [2]uint64{ret, ret + args[1]})
		}
	case unix.SYS_MREMAP:
		if ok {
			ranges = append(ranges, [2]uint64{args[0], args[0] + args[1]}, [2]uint64{ret, ret + args[2]})
		}
	case unix.SYS_BRK:
		if oldBrk != 0 {
			ranges = append(ranges, [2]uint64{min(oldBrk, ret), max(oldBrk, ret)})
		}
	}
	inRanges := func(a uint64) bool {
		for _, r := range ranges {
			if a < r[1] && r[0] < a+pageSize {
				return true
			}
		}
		return false
	}
	for pa, pg := range e.pages {
		now := protAt(maps, pa)
		if now != pg.cur || inRanges(pa) || pg.orig == unmapped {
			pg.orig, pg.cur = now, now
		}
	}
	return e.applyPages()
}
