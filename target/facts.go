package target

// The capabilities below tell what the operating system and the
// program's files know about the process: its shared libraries, its
// symbols, who it is, the CPU and name of each thread, the root of its
// files. An implementation reads them where its system keeps them
// (target/linux: the auxiliary vector, the dynamic linker's structures
// in memory, the ELF file, /proc); the server formats them for the wire
// and knows none of those places.

// AuxvReader is the optional capability of reading the auxiliary
// vector, for qXfer:auxv:read.
type AuxvReader interface {
	// Auxv is the process's auxiliary vector, as the kernel gave it to
	// the program (ELF64: pairs of 8-byte words, up to AT_NULL).
	Auxv() ([]byte, error)
}

// ExecFile is the optional capability of naming the program's
// executable, for qXfer:exec-file:read.
type ExecFile interface {
	// ExecPath is the absolute path of the program the process runs.
	ExecPath() (string, error)
}

// LibraryLister is the optional capability of listing the shared
// libraries the dynamic linker has loaded, for qXfer:libraries-svr4:read
// (GDB manual, "Library List Format for SVR4 Targets").
type LibraryLister interface {
	// Libraries reads the dynamic linker's list as it is now. It works
	// while the process runs too (the list is in memory), but only a
	// stop shows a list the linker is not changing.
	Libraries() (LibraryList, error)
}

// LibraryList is the dynamic linker's list of loaded objects: the chain
// of struct link_map that struct r_debug's r_map starts (glibc
// <link.h>; the System V ABI's DT_DEBUG entry points at r_debug).
type LibraryList struct {
	// RDebug is the address of the linker's struct r_debug, which gdb
	// names a link-map namespace by (the lmid of each library). 0 when
	// the program has no dynamic linker (static) or the linker has not
	// filled DT_DEBUG in yet (at the first instruction): the list is
	// then empty.
	RDebug uint64
	// MainLM is the address of the first link_map, the program's own
	// (gdb's main-lm); 0 when the chain is empty.
	MainLM uint64
	// Libraries are the link_maps after the program's, in chain order:
	// the dynamic linker's own among them, and the vDSO's, whose name
	// glibc leaves empty.
	Libraries []Library
}

// Library is one struct link_map of the chain (glibc <link.h>).
type Library struct {
	Name string // l_name: the path the linker opened; "" for the vDSO
	LM   uint64 // the address of the link_map itself
	Addr uint64 // l_addr: the load bias (run-time minus link-time addresses)
	LD   uint64 // l_ld: the run-time address of its dynamic section
}

// Symbolizer is the optional capability of naming an address by the
// program's symbols, for the notices and tables that say "0x404028
// <counter>".
type Symbolizer interface {
	// SymbolAt names the sized data or function symbol of the program's
	// executable that holds addr, at its run-time address, and addr's
	// offset in it. ok is false when no symbol holds addr (or the
	// program has none: stripped). The table is read once, at the first
	// call after a start or an exec.
	SymbolAt(addr uint64) (name string, offset uint64, ok bool)
}

// ProcessInfoReader is the optional capability of saying who the process
// is, for lldb's qProcessInfo.
type ProcessInfoReader interface {
	// ProcessInfo reads the process's parent and credentials as they
	// are now.
	ProcessInfo() (ProcessInfo, error)
}

// ProcessInfo is who a process is and what it runs on.
type ProcessInfo struct {
	PPid      int    // the parent's process id
	UID, EUID int    // real and effective user ids
	GID, EGID int    // real and effective group ids
	Triple    string // the LLVM target triple: "x86_64-pc-linux-gnu"
	OSType    string // lldb's ostype: "linux"
}

// ThreadInfo is the optional capability of telling what the system
// knows of each thread beyond its registers: the name it goes by and the
// CPU it last ran on. Both work while the process runs, and both may
// fail (ok false) for a thread that has just exited.
type ThreadInfo interface {
	// ThreadName is the thread's name (the program sets it with
	// pthread_setname_np; it starts as the program's name), for
	// qThreadExtraInfo and the name attribute of qXfer:threads:read.
	ThreadName(tid Tid) (name string, ok bool)
	// ThreadCore is the CPU the thread last ran on (gdb's "core"), for
	// the core attribute of qXfer:threads:read and the core of a stop
	// reply.
	ThreadCore(tid Tid) (core int, ok bool)
}

// ProcessFiles is the optional capability of naming the host files that
// are the process's own, for the confinement of vFile (README,
// "Security"): a client may open these (gdb reads them with its sysroot
// "target:") and not the host's other files, unless told.
type ProcessFiles interface {
	// ProcessDir is the host directory that describes the process
	// (its threads, memory map, status), beneath which a client may
	// read: gdb's `info proc` reads there.
	ProcessDir() string
	// MappedFiles gives the identity of the program's executable and of
	// every file the process maps now (the dynamic linker, the shared
	// libraries), whatever path names them: gdb opens ld.so by the path
	// in the program's PT_INTERP, a link to the file mapped.
	MappedFiles() ([]FileID, error)
}

// FileID is a file's identity on the server's host: its device and
// inode, as stat(2) gives them.
type FileID struct {
	Dev, Ino uint64
}

// FileRoot is the optional capability of finding the process's files
// as the process sees them, for vFile:setfs (GDB manual, "Host I/O
// Packets"): a process in a container or a chroot has a root of its
// own.
type FileRoot interface {
	// FileRoot is the directory of the server's host under which the
	// process's files appear at their own paths, or "/" when the
	// process sees the server's.
	FileRoot() (string, error)
}

// MemoryRegionReader is the optional capability of telling what is
// mapped at an address of the process, for lldb's qMemoryRegionInfo
// (lldb's gdb-remote protocol extensions): lldb and Delve ask it before
// they read the stack or call a function.
type MemoryRegionReader interface {
	// MemoryRegion is the mapping that holds addr or, when none does,
	// the gap around it (Mapped false): from addr to the next mapping,
	// or to the end of the address space (Size 2^64-Start-1 past the
	// last one: lldb-server's answer, where Delve's walk of the map
	// stops).
	MemoryRegion(addr uint64) (MemoryRegion, error)
}

// MemoryRegion is one mapping of a process, or a gap between two.
type MemoryRegion struct {
	Start, Size          uint64
	Mapped               bool
	Read, Write, Execute bool
	// Name is the mapped file, or the kernel's name of a special
	// mapping ([heap], [stack], [vdso]), or "" when anonymous.
	Name string
}
