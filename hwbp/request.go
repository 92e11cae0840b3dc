package hwbp

import (
	"fmt"
	"math"
)

// UserLimit is the first address a debug register may not watch in a
// Linux x86-64 process: TASK_SIZE_MAX with 4-level paging, (1<<47) minus
// one page. The kernel counts [UserLimit, 1<<47) as kernel space too and
// refuses a breakpoint on any byte at or above it with EINVAL
// (arch/x86/kernel/hw_breakpoint.c arch_check_bp_in_kernelspace; probe:
// 0x7fffffffeff8 len 8 accepted, 0x7ffffffff000 len 1 refused). With
// 5-level paging (CPU flag la57) user space is larger; this machine has no
// la57 and the limit is kept at the 4-level value until a target needs more.
const UserLimit uint64 = 1<<47 - 4096

// Bounds of the non-canonical hole of 48-bit virtual addresses.
const (
	canonicalLowEnd    uint64 = 1 << 47               // first non-canonical address
	canonicalHighStart uint64 = 0xffff_8000_0000_0000 // first canonical kernel address
)

// Span is a range of Len bytes from Addr. Spans in this package do not wrap
// past 2^64; methods treat an end past 2^64 as 2^64.
type Span struct {
	Addr uint64
	Len  uint64
}

// end returns the exclusive end, saturated at 2^64-1.
func (s Span) end() uint64 {
	if s.Len > math.MaxUint64-s.Addr {
		return math.MaxUint64
	}
	return s.Addr + s.Len
}

// intersect returns the common bytes of s and o (Len 0 when none).
func (s Span) intersect(o Span) Span {
	lo, hi := max(s.Addr, o.Addr), min(s.end(), o.end())
	if lo >= hi {
		return Span{}
	}
	return Span{Addr: lo, Len: hi - lo}
}

func (s Span) String() string { return fmt.Sprintf("%#x len %d", s.Addr, s.Len) }

// Request is one debugpoint's x86 part: what to watch (Kind) and the bytes
// [Addr, Addr+Len). For KindExecute, Addr is the instruction and Len is 1.
// Requests come from clients: validate them (Validate, or any Strategy
// method, which validates first) before use.
type Request struct {
	Kind Kind
	Addr uint64
	Len  uint64
}

// String gives the request as notices and errors name it, such as
// "write 0x1000 len 4".
func (r Request) String() string { return fmt.Sprintf("%v %#x len %d", r.Kind, r.Addr, r.Len) }

// Span returns the watched bytes.
func (r Request) Span() Span { return Span{Addr: r.Addr, Len: r.Len} }

// Validate reports whether the request can be watched with debug registers
// at all, as a *RequestError wrapping ErrUnknownKind, ErrZeroLength,
// ErrExecuteLength, ErrWraps, ErrNonCanonical or ErrKernelAddress. Any
// length from 1 up is valid; whether the pieces fit in the slots is a
// question for Strategy.Count.
func (r Request) Validate() error {
	if err := r.check(); err != nil {
		return &RequestError{Request: r, Err: err}
	}
	return nil
}

func (r Request) check() error {
	switch {
	case !r.Kind.valid():
		return ErrUnknownKind
	case r.Len == 0:
		return ErrZeroLength
	case r.Kind == KindExecute && r.Len != 1:
		return ErrExecuteLength
	case r.Len-1 > math.MaxUint64-r.Addr:
		return ErrWraps
	}
	return checkUser(r.Addr, r.Addr+(r.Len-1))
}

// checkUser checks that every byte of [first, last] is a user address.
func checkUser(first, last uint64) error {
	switch {
	case last < UserLimit:
		return nil
	case first < canonicalHighStart && last >= canonicalLowEnd:
		return ErrNonCanonical
	}
	return ErrKernelAddress
}

// Inside returns the bytes of p that are in the request's range. For a
// piece of ExactCover it is p.AllBytes(); FewestSlots pieces may hold
// bytes outside the range.
func (r Request) Inside(p Piece) ByteMask {
	in := r.Span().intersect(p.Span())
	if in.Len == 0 {
		return 0
	}
	return ByteMask((1<<in.Len - 1) << (in.Addr - p.Addr))
}

// Outside returns the bytes of p that are not in the request's range: a
// hit on them alone is not the client's.
func (r Request) Outside(p Piece) ByteMask { return p.AllBytes() &^ r.Inside(p) }

// ReportAddress returns the address to report to the client for a hit on
// piece p by an access to the bytes in access: the lowest address that is
// in the request's range, in p and in access. It reports false when there
// is none: the access touched only bytes outside the range, and the hit is
// not the client's. Pass p.Span() as access when the accessed bytes are not
// known; the answer is then the first byte of p inside the range. The
// address is never outside the range, so gdb (which matches it against its
// watchpoints' ranges) always finds the watchpoint.
func (r Request) ReportAddress(p Piece, access Span) (uint64, bool) {
	s := r.Span().intersect(p.Span()).intersect(access)
	return s.Addr, s.Len > 0
}
