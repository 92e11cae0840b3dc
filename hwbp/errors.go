package hwbp

import (
	"errors"
	"fmt"
)

// Sentinel errors for requests that cannot be watched with debug registers.
// They arrive wrapped in a *RequestError; test them with errors.Is.
var (
	// ErrUnknownKind: the kind is not one of KindExecute..KindAccess.
	ErrUnknownKind = errors.New("unknown kind")
	// ErrZeroLength: nothing to watch.
	ErrZeroLength = errors.New("zero length")
	// ErrExecuteLength: an execute breakpoint watches one instruction
	// start; gdb sends Z1 with kind 1 on x86-64, and the SDM leaves any
	// LEN but 00 undefined for R/W 00 (Linux refuses it with EINVAL).
	ErrExecuteLength = errors.New("execute length is not 1")
	// ErrWraps: the range runs past the top of the 64-bit address space.
	ErrWraps = errors.New("range wraps past 2^64")
	// ErrNonCanonical: the range has a byte in the non-canonical hole
	// between 0x0000_8000_0000_0000 and 0xffff_7fff_ffff_ffff.
	ErrNonCanonical = errors.New("non-canonical address")
	// ErrKernelAddress: the range has a byte at or above UserLimit that is
	// canonical: kernel space, or the guard page below it. Linux refuses
	// both with EINVAL (probe).
	ErrKernelAddress = errors.New("not a user-space address")
	// ErrTooManyPieces: the range needs more pieces than there are slots,
	// so it can never be watched in hardware as a whole.
	ErrTooManyPieces = errors.New("more pieces than slots")
	// ErrUnknownStrategy: the Strategy is neither ExactCover nor
	// FewestSlots (a caller's bug, reported rather than panicking).
	ErrUnknownStrategy = errors.New("unknown strategy")
)

// Sentinel errors for pieces and debug-register images. They arrive wrapped
// in a *SlotError (or, for ErrReservedBits, with the DR7 value).
var (
	// ErrPieceLength: a piece is 1, 2, 4 or 8 bytes long.
	ErrPieceLength = errors.New("piece length is not 1, 2, 4 or 8")
	// ErrMisaligned: a piece's address must be a multiple of its length
	// (SDM "Breakpoint Field Recognition"); Linux refuses it with EINVAL
	// when DR7 enables the slot (probe).
	ErrMisaligned = errors.New("address not aligned to length")
	// ErrUnknownCond: the condition is not execute, write or access.
	ErrUnknownCond = errors.New("unknown condition")
	// ErrIOCondition: R/W = 10 asks for I/O breakpoints, which Linux
	// refuses with EINVAL (probe).
	ErrIOCondition = errors.New("i/o condition not supported")
	// ErrDuplicatePiece: the same piece in two slots; identical pieces
	// share one slot (the arbiter counts their owners).
	ErrDuplicatePiece = errors.New("piece already in another slot")
	// ErrReservedBits: bits 32-63 of DR7 are reserved and must be zero in
	// 64-bit mode (SDM "Debug Registers and Intel 64 Processors").
	ErrReservedBits = errors.New("reserved dr7 bits set")
)

// RequestError reports a request that cannot be watched in hardware.
// Err is one of the request sentinels above.
type RequestError struct {
	Request Request
	Err     error
	// Pieces is the number of pieces the range needs, set with
	// ErrTooManyPieces.
	Pieces uint64
}

func (e *RequestError) Error() string {
	if errors.Is(e.Err, ErrTooManyPieces) {
		return fmt.Sprintf("%v: needs %d pieces, more than the %d slots", e.Request, e.Pieces, NumSlots)
	}
	return fmt.Sprintf("%v: %v", e.Request, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// SlotError reports a piece that cannot go into a slot, or a slot of a
// debug-register image that does not decode. Piece is the zero Piece when
// the slot's fields do not make one.
type SlotError struct {
	Slot  Slot
	Piece Piece
	Err   error
}

func (e *SlotError) Error() string {
	if e.Piece == (Piece{}) {
		return fmt.Sprintf("%v: %v", e.Slot, e.Err)
	}
	return fmt.Sprintf("%v: %v: %v", e.Slot, e.Piece, e.Err)
}

func (e *SlotError) Unwrap() error { return e.Err }
