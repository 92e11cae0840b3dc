package swwatch

import (
	"golang.org/x/sys/unix"
)

// What system calls do with user memory, as far as the engine needs to
// know: which arguments point to memory the kernel reads or writes, and
// how much; whether the call may block; whether it changes the memory
// map. The table decides only whether a call needs protected pages open
// and how to run it; what the kernel wrote is found by comparing values,
// so a range may be larger than the truth (it only costs time), and an
// argument the table does not describe is still checked: any argument
// that points into a protected page counts as an access of that page.

// dir says what the kernel does with a range.
type dir uint8

const (
	dirR  dir = 1
	dirW  dir = 2
	dirRW     = dirR | dirW
)

// sizeRule says how long a range is.
type sizeRule uint8

const (
	szFixed  sizeRule = iota // n bytes
	szArg                    // the value of argument n
	szArgMul                 // argument n times m
	szStr                    // a NUL-terminated string (at most 4 KiB)
	szIov                    // an iovec array of argument-n entries; the buffers get the dir
	szMsg                    // a struct msghdr; its name, iov buffers and control get the dir
	szLenPtr                 // *(int *)argument n bytes (a socklen_t value-result)
	szFdset                  // fd_set of argument-n descriptors
	szIoctl                  // _IOC_SIZE of the request (argument 1), dir from _IOC_DIR
	szPage                   // unknown: up to the end of the pointer's page and one more
)

type ptrArg struct {
	arg  uint8
	dir  dir
	size sizeRule
	n, m int
	// ret: the kernel writes only as many bytes (szArg) or elements
	// (szArgMul) as the call returns.
	ret bool
}

// class says how a call is run when it needs pages open.
type class uint8

const (
	// clPlain: returns soon; run in place, the other threads stopped.
	clPlain class = iota
	// clBlockFD: may block, depending on its file descriptor (argument
	// 0): in place on a regular file, else with the pages open.
	clBlockFD
	// clBlock: may block: run with the pages open while the others run.
	clBlock
	// clMM: changes the memory map: run in place when it may concern
	// watched pages, and the page table brought up to date.
	clMM
	// clNever: never run in place (it does not come back, or makes a
	// new thread or process): pages open.
	clNever
	// clPure: touches no user memory.
	clPure
)

type sysInfo struct {
	class class
	args  []ptrArg
}

// exactArgs are the calls whose every memory access the engine knows
// (futexRanges): their other arguments are values, even when they look
// like pointers into a protected page (FUTEX_WAKE's address).
var exactArgs = map[int]bool{unix.SYS_FUTEX: true, unix.SYS_RT_SIGRETURN: true}

func p(arg int, d dir, s sizeRule, n, m int) ptrArg {
	return ptrArg{arg: uint8(arg), dir: d, size: s, n: n, m: m}
}

// pr is p for a buffer the kernel fills up to the call's return value.
func pr(arg int, d dir, s sizeRule, n, m int) ptrArg {
	a := p(arg, d, s, n, m)
	a.ret = true
	return a
}

// sysTable is indexed by system call number (x86-64).
var sysTable = map[int]sysInfo{
	unix.SYS_READ:              {clBlockFD, []ptrArg{pr(1, dirW, szArg, 2, 0)}},
	unix.SYS_WRITE:             {clBlockFD, []ptrArg{p(1, dirR, szArg, 2, 0)}},
	unix.SYS_PREAD64:           {clBlockFD, []ptrArg{pr(1, dirW, szArg, 2, 0)}},
	unix.SYS_PWRITE64:          {clBlockFD, []ptrArg{p(1, dirR, szArg, 2, 0)}},
	unix.SYS_READV:             {clBlockFD, []ptrArg{p(1, dirW, szIov, 2, 0)}},
	unix.SYS_WRITEV:            {clBlockFD, []ptrArg{p(1, dirR, szIov, 2, 0)}},
	unix.SYS_PREADV:            {clBlockFD, []ptrArg{p(1, dirW, szIov, 2, 0)}},
	unix.SYS_PWRITEV:           {clBlockFD, []ptrArg{p(1, dirR, szIov, 2, 0)}},
	unix.SYS_PREADV2:           {clBlockFD, []ptrArg{p(1, dirW, szIov, 2, 0)}},
	unix.SYS_PWRITEV2:          {clBlockFD, []ptrArg{p(1, dirR, szIov, 2, 0)}},
	unix.SYS_RECVFROM:          {clBlock, []ptrArg{pr(1, dirW, szArg, 2, 0), p(4, dirW, szLenPtr, 5, 0), p(5, dirRW, szFixed, 4, 0)}},
	unix.SYS_SENDTO:            {clBlock, []ptrArg{p(1, dirR, szArg, 2, 0), p(4, dirR, szArg, 5, 0)}},
	unix.SYS_RECVMSG:           {clBlock, []ptrArg{p(1, dirW, szMsg, 0, 0)}},
	unix.SYS_SENDMSG:           {clBlock, []ptrArg{p(1, dirR, szMsg, 0, 0)}},
	unix.SYS_GETRANDOM:         {clPlain, []ptrArg{pr(0, dirW, szArg, 1, 0)}},
	unix.SYS_CLOCK_GETTIME:     {clPlain, []ptrArg{p(1, dirW, szFixed, 16, 0)}},
	unix.SYS_CLOCK_GETRES:      {clPlain, []ptrArg{p(1, dirW, szFixed, 16, 0)}},
	unix.SYS_GETTIMEOFDAY:      {clPlain, []ptrArg{p(0, dirW, szFixed, 16, 0), p(1, dirW, szFixed, 8, 0)}},
	unix.SYS_TIME:              {clPlain, []ptrArg{p(0, dirW, szFixed, 8, 0)}},
	unix.SYS_NANOSLEEP:         {clBlock, []ptrArg{p(0, dirR, szFixed, 16, 0), p(1, dirW, szFixed, 16, 0)}},
	unix.SYS_CLOCK_NANOSLEEP:   {clBlock, []ptrArg{p(2, dirR, szFixed, 16, 0), p(3, dirW, szFixed, 16, 0)}},
	unix.SYS_FSTAT:             {clPlain, []ptrArg{p(1, dirW, szFixed, 144, 0)}},
	unix.SYS_STAT:              {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0), p(1, dirW, szFixed, 144, 0)}},
	unix.SYS_LSTAT:             {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0), p(1, dirW, szFixed, 144, 0)}},
	unix.SYS_NEWFSTATAT:        {clPlain, []ptrArg{p(1, dirR, szStr, 0, 0), p(2, dirW, szFixed, 144, 0)}},
	unix.SYS_STATX:             {clPlain, []ptrArg{p(1, dirR, szStr, 0, 0), p(4, dirW, szFixed, 256, 0)}},
	unix.SYS_PIPE:              {clPlain, []ptrArg{p(0, dirW, szFixed, 8, 0)}},
	unix.SYS_PIPE2:             {clPlain, []ptrArg{p(0, dirW, szFixed, 8, 0)}},
	unix.SYS_SOCKETPAIR:        {clPlain, []ptrArg{p(3, dirW, szFixed, 8, 0)}},
	unix.SYS_POLL:              {clBlock, []ptrArg{p(0, dirRW, szArgMul, 1, 8)}},
	unix.SYS_PPOLL:             {clBlock, []ptrArg{p(0, dirRW, szArgMul, 1, 8), p(2, dirRW, szFixed, 16, 0), p(3, dirR, szFixed, 8, 0)}},
	unix.SYS_SELECT:            {clBlock, []ptrArg{p(1, dirRW, szFdset, 0, 0), p(2, dirRW, szFdset, 0, 0), p(3, dirRW, szFdset, 0, 0), p(4, dirRW, szFixed, 16, 0)}},
	unix.SYS_PSELECT6:          {clBlock, []ptrArg{p(1, dirRW, szFdset, 0, 0), p(2, dirRW, szFdset, 0, 0), p(3, dirRW, szFdset, 0, 0), p(4, dirRW, szFixed, 16, 0), p(5, dirR, szFixed, 16, 0)}},
	unix.SYS_EPOLL_WAIT:        {clBlock, []ptrArg{pr(1, dirW, szArgMul, 2, 12)}},
	unix.SYS_EPOLL_PWAIT:       {clBlock, []ptrArg{pr(1, dirW, szArgMul, 2, 12), p(4, dirR, szFixed, 8, 0)}},
	unix.SYS_EPOLL_PWAIT2:      {clBlock, []ptrArg{pr(1, dirW, szArgMul, 2, 12), p(3, dirR, szFixed, 16, 0), p(4, dirR, szFixed, 8, 0)}},
	unix.SYS_EPOLL_CTL:         {clPlain, []ptrArg{p(3, dirR, szFixed, 12, 0)}},
	unix.SYS_WAIT4:             {clBlock, []ptrArg{p(1, dirW, szFixed, 4, 0), p(3, dirW, szFixed, 144, 0)}},
	unix.SYS_WAITID:            {clBlock, []ptrArg{p(2, dirW, szFixed, 128, 0), p(4, dirW, szFixed, 144, 0)}},
	unix.SYS_FUTEX:             {clBlock, nil}, // by operation: futexRanges
	unix.SYS_GETCWD:            {clPlain, []ptrArg{pr(0, dirW, szArg, 1, 0)}},
	unix.SYS_READLINK:          {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0), pr(1, dirW, szArg, 2, 0)}},
	unix.SYS_READLINKAT:        {clPlain, []ptrArg{p(1, dirR, szStr, 0, 0), pr(2, dirW, szArg, 3, 0)}},
	unix.SYS_UNAME:             {clPlain, []ptrArg{p(0, dirW, szFixed, 390, 0)}},
	unix.SYS_SYSINFO:           {clPlain, []ptrArg{p(0, dirW, szFixed, 112, 0)}},
	unix.SYS_GETRUSAGE:         {clPlain, []ptrArg{p(1, dirW, szFixed, 144, 0)}},
	unix.SYS_TIMES:             {clPlain, []ptrArg{p(0, dirW, szFixed, 32, 0)}},
	unix.SYS_RT_SIGACTION:      {clPlain, []ptrArg{p(1, dirR, szFixed, 32, 0), p(2, dirW, szFixed, 32, 0)}},
	unix.SYS_RT_SIGPROCMASK:    {clPlain, []ptrArg{p(1, dirR, szFixed, 8, 0), p(2, dirW, szFixed, 8, 0)}},
	unix.SYS_RT_SIGPENDING:     {clPlain, []ptrArg{p(0, dirW, szFixed, 8, 0)}},
	unix.SYS_SIGALTSTACK:       {clPlain, []ptrArg{p(0, dirR, szFixed, 24, 0), p(1, dirW, szFixed, 24, 0)}},
	unix.SYS_RT_SIGRETURN:      {clPlain, nil}, // the frame at RSP: see sysRanges
	unix.SYS_RT_SIGTIMEDWAIT:   {clBlock, []ptrArg{p(0, dirR, szFixed, 8, 0), p(1, dirW, szFixed, 128, 0), p(2, dirR, szFixed, 16, 0)}},
	unix.SYS_RT_SIGSUSPEND:     {clBlock, []ptrArg{p(0, dirR, szFixed, 8, 0)}},
	unix.SYS_GETDENTS64:        {clPlain, []ptrArg{pr(1, dirW, szArg, 2, 0)}},
	unix.SYS_GETDENTS:          {clPlain, []ptrArg{pr(1, dirW, szArg, 2, 0)}},
	unix.SYS_PRLIMIT64:         {clPlain, []ptrArg{p(2, dirR, szFixed, 16, 0), p(3, dirW, szFixed, 16, 0)}},
	unix.SYS_GETRLIMIT:         {clPlain, []ptrArg{p(1, dirW, szFixed, 16, 0)}},
	unix.SYS_SETRLIMIT:         {clPlain, []ptrArg{p(1, dirR, szFixed, 16, 0)}},
	unix.SYS_GETITIMER:         {clPlain, []ptrArg{p(1, dirW, szFixed, 32, 0)}},
	unix.SYS_SETITIMER:         {clPlain, []ptrArg{p(1, dirR, szFixed, 32, 0), p(2, dirW, szFixed, 32, 0)}},
	unix.SYS_TIMER_GETTIME:     {clPlain, []ptrArg{p(1, dirW, szFixed, 32, 0)}},
	unix.SYS_TIMER_SETTIME:     {clPlain, []ptrArg{p(2, dirR, szFixed, 32, 0), p(3, dirW, szFixed, 32, 0)}},
	unix.SYS_TIMERFD_GETTIME:   {clPlain, []ptrArg{p(1, dirW, szFixed, 32, 0)}},
	unix.SYS_TIMERFD_SETTIME:   {clPlain, []ptrArg{p(2, dirR, szFixed, 32, 0), p(3, dirW, szFixed, 32, 0)}},
	unix.SYS_SCHED_GETAFFINITY: {clPlain, []ptrArg{p(2, dirW, szArg, 1, 0)}},
	unix.SYS_SCHED_SETAFFINITY: {clPlain, []ptrArg{p(2, dirR, szArg, 1, 0)}},
	unix.SYS_GETSOCKOPT:        {clPlain, []ptrArg{p(3, dirW, szLenPtr, 4, 0), p(4, dirRW, szFixed, 4, 0)}},
	unix.SYS_SETSOCKOPT:        {clPlain, []ptrArg{p(3, dirR, szArg, 4, 0)}},
	unix.SYS_GETSOCKNAME:       {clPlain, []ptrArg{p(1, dirW, szLenPtr, 2, 0), p(2, dirRW, szFixed, 4, 0)}},
	unix.SYS_GETPEERNAME:       {clPlain, []ptrArg{p(1, dirW, szLenPtr, 2, 0), p(2, dirRW, szFixed, 4, 0)}},
	unix.SYS_ACCEPT:            {clBlock, []ptrArg{p(1, dirW, szLenPtr, 2, 0), p(2, dirRW, szFixed, 4, 0)}},
	unix.SYS_ACCEPT4:           {clBlock, []ptrArg{p(1, dirW, szLenPtr, 2, 0), p(2, dirRW, szFixed, 4, 0)}},
	unix.SYS_CONNECT:           {clBlock, []ptrArg{p(1, dirR, szArg, 2, 0)}},
	unix.SYS_BIND:              {clPlain, []ptrArg{p(1, dirR, szArg, 2, 0)}},
	unix.SYS_IOCTL:             {clBlockFD, []ptrArg{p(2, dirRW, szIoctl, 0, 0)}},
	unix.SYS_OPEN:              {clBlock, []ptrArg{p(0, dirR, szStr, 0, 0)}},
	unix.SYS_OPENAT:            {clBlock, []ptrArg{p(1, dirR, szStr, 0, 0)}},
	unix.SYS_ACCESS:            {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0)}},
	unix.SYS_FACCESSAT:         {clPlain, []ptrArg{p(1, dirR, szStr, 0, 0)}},
	unix.SYS_FACCESSAT2:        {clPlain, []ptrArg{p(1, dirR, szStr, 0, 0)}},
	unix.SYS_UNLINK:            {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0)}},
	unix.SYS_UNLINKAT:          {clPlain, []ptrArg{p(1, dirR, szStr, 0, 0)}},
	unix.SYS_MKDIR:             {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0)}},
	unix.SYS_MKDIRAT:           {clPlain, []ptrArg{p(1, dirR, szStr, 0, 0)}},
	unix.SYS_CHDIR:             {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0)}},
	unix.SYS_RENAME:            {clPlain, []ptrArg{p(0, dirR, szStr, 0, 0), p(1, dirR, szStr, 0, 0)}},
	unix.SYS_FCNTL:             {clBlock, []ptrArg{p(2, dirRW, szPage, 0, 0)}},
	unix.SYS_FLOCK:             {clBlock, nil},
	unix.SYS_MSGRCV:            {clBlock, []ptrArg{p(1, dirW, szArg, 2, 0)}},
	unix.SYS_MSGSND:            {clBlock, []ptrArg{p(1, dirR, szArg, 2, 0)}},
	unix.SYS_SEMOP:             {clBlock, []ptrArg{p(1, dirR, szArgMul, 2, 6)}},
	unix.SYS_SEMTIMEDOP:        {clBlock, []ptrArg{p(1, dirR, szArgMul, 2, 6), p(3, dirR, szFixed, 16, 0)}},
	unix.SYS_PAUSE:             {clBlock, nil},
	unix.SYS_SCHED_YIELD:       {clPure, nil},
	unix.SYS_GETPID:            {clPure, nil},
	unix.SYS_GETTID:            {clPure, nil},
	unix.SYS_GETPPID:           {clPure, nil},
	unix.SYS_GETUID:            {clPure, nil},
	unix.SYS_GETEUID:           {clPure, nil},
	unix.SYS_GETGID:            {clPure, nil},
	unix.SYS_GETEGID:           {clPure, nil},
	unix.SYS_CLOSE:             {clPure, nil},
	unix.SYS_DUP:               {clPure, nil},
	unix.SYS_DUP2:              {clPure, nil},
	unix.SYS_DUP3:              {clPure, nil},
	unix.SYS_LSEEK:             {clPure, nil},
	unix.SYS_KILL:              {clPure, nil},
	unix.SYS_TGKILL:            {clPure, nil},
	unix.SYS_TKILL:             {clPure, nil},
	unix.SYS_SOCKET:            {clPure, nil},
	unix.SYS_LISTEN:            {clPure, nil},
	unix.SYS_SHUTDOWN:          {clPure, nil},
	unix.SYS_FSYNC:             {clPure, nil},
	unix.SYS_UMASK:             {clPure, nil},
	unix.SYS_SETPGID:           {clPure, nil},
	unix.SYS_GETPGRP:           {clPure, nil},
	unix.SYS_SETSID:            {clPure, nil},
	unix.SYS_ALARM:             {clPure, nil},
	unix.SYS_EXIT:              {clNever, nil},
	unix.SYS_EXIT_GROUP:        {clNever, nil},
	unix.SYS_EXECVE:            {clNever, []ptrArg{p(0, dirR, szStr, 0, 0), p(1, dirR, szPage, 0, 0), p(2, dirR, szPage, 0, 0)}},
	unix.SYS_EXECVEAT:          {clNever, []ptrArg{p(1, dirR, szStr, 0, 0), p(2, dirR, szPage, 0, 0), p(3, dirR, szPage, 0, 0)}},
	unix.SYS_CLONE:             {clNever, []ptrArg{p(2, dirW, szFixed, 4, 0), p(3, dirW, szFixed, 4, 0)}},
	unix.SYS_CLONE3:            {clNever, []ptrArg{p(0, dirR, szArg, 1, 0)}},
	unix.SYS_FORK:              {clNever, nil},
	unix.SYS_VFORK:             {clNever, nil},
	unix.SYS_RESTART_SYSCALL:   {clBlock, nil},
	unix.SYS_SET_TID_ADDRESS:   {clPure, nil},
	unix.SYS_SET_ROBUST_LIST:   {clPure, nil},
	unix.SYS_RSEQ:              {clPlain, []ptrArg{p(0, dirRW, szArg, 1, 0)}},
	unix.SYS_ARCH_PRCTL:        {clPlain, []ptrArg{p(1, dirW, szFixed, 8, 0)}},
	unix.SYS_PRCTL:             {clPlain, []ptrArg{p(1, dirRW, szPage, 0, 0)}},
	unix.SYS_MMAP:              {clMM, nil},
	unix.SYS_MUNMAP:            {clMM, nil},
	unix.SYS_MPROTECT:          {clMM, nil},
	unix.SYS_PKEY_MPROTECT:     {clMM, nil},
	unix.SYS_MREMAP:            {clMM, nil},
	unix.SYS_BRK:               {clMM, nil},
	unix.SYS_MADVISE:           {clMM, nil},
	unix.SYS_SHMAT:             {clMM, nil},
	unix.SYS_SHMDT:             {clMM, nil},
	unix.SYS_REMAP_FILE_PAGES:  {clMM, nil},
}

// ioctl request fields (include/uapi/asm-generic/ioctl.h).
func iocSize(req uint64) uint64 { return req >> 16 & 0x3fff }
func iocDir(req uint64) dir {
	var d dir
	if req>>30&1 != 0 { // _IOC_WRITE: user to kernel
		d |= dirR
	}
	if req>>30&2 != 0 { // _IOC_READ: kernel to user
		d |= dirW
	}
	return d
}

// futexRanges is what futex(2) touches, by operation
// (kernel/futex/syscalls.c): a wait reads the futex word once, before it
// sleeps; a wake touches nothing (a private futex is keyed by address);
// the PI operations and WAKE_OP change words.
func futexRanges(args [6]uint64, add func(addr, n uint64, d dir)) {
	const (
		wait, wake, requeue, cmpRequeue, wakeOp = 0, 1, 3, 4, 5
		lockPI, unlockPI, trylockPI, waitBitset = 6, 7, 8, 9
		wakeBitset, waitRequeuePI, cmpRequeuePI = 10, 11, 12
		lockPI2, cmdMask, clockRealtime         = 13, 127, 256
	)
	timeout := func() {
		if args[3] != 0 {
			add(args[3], 16, dirR)
		}
	}
	switch args[1] & cmdMask {
	case wait, waitBitset:
		add(args[0], 4, dirR)
		timeout()
	case wake, wakeBitset, requeue:
	case cmpRequeue:
		add(args[0], 4, dirR)
	case wakeOp:
		add(args[4], 4, dirRW)
	case lockPI, lockPI2, trylockPI, unlockPI:
		add(args[0], 4, dirRW)
		timeout()
	case waitRequeuePI:
		add(args[0], 4, dirR)
		add(args[4], 4, dirRW)
		timeout()
	case cmpRequeuePI:
		add(args[0], 4, dirR)
		add(args[4], 4, dirRW)
	default:
		add(args[0], 4, dirRW)
		add(args[4], 4, dirRW)
	}
}
