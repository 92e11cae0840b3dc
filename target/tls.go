package target

import "errors"

// TLSResolver is the optional capability of finding the thread-local
// variables (C's __thread, C++'s thread_local) of each thread, for
// gdb's `print tls_var` (GDB manual, "General Query Packets",
// qGetTLSAddr).
type TLSResolver interface {
	// TLSAddress is the address, in thread tid, of the thread-local
	// variable at offset in the TLS block of the module (the program or
	// a shared library) whose struct link_map is at lm, as the dynamic
	// linker's list gives it (LibraryList). Only while stopped.
	//
	// ErrTLSNotAllocated: the thread has no block for that module yet
	// (a library loaded with dlopen after the thread's last look at its
	// thread-local variables); the variable holds, for that thread, its
	// initial value, which is in the library's file. ErrNoTLS: the
	// module has no thread-local variables.
	TLSAddress(tid Tid, lm, offset uint64) (uint64, error)
}

// Errors of TLSResolver.
var (
	ErrTLSNotAllocated = errors.New("thread-local storage not allocated for that module in that thread yet")
	ErrNoTLS           = errors.New("the module has no thread-local storage")
)
