package server

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// Host I/O (vFile packets) speaks GDB's File-I/O conventions, not the
// host's: open flags, mode bits, errno values and the layout of struct stat
// are GDB's own (GDB manual, "File-I/O Remote Protocol Extension",
// "Protocol-specific Representation of Datatypes"). These functions
// translate.

// GDB File-I/O open flags.
const (
	fioRDONLY = 0x0
	fioWRONLY = 0x1
	fioRDWR   = 0x2
	fioAPPEND = 0x8
	fioCREAT  = 0x200
	fioTRUNC  = 0x400
	fioEXCL   = 0x800
)

// fileioFlags translates GDB open flags to os.OpenFile flags.
func fileioFlags(f int) (int, bool) {
	if f&^(fioWRONLY|fioRDWR|fioAPPEND|fioCREAT|fioTRUNC|fioEXCL) != 0 {
		return 0, false
	}
	var o int
	switch f & 3 {
	case fioRDONLY:
		o = os.O_RDONLY
	case fioWRONLY:
		o = os.O_WRONLY
	case fioRDWR:
		o = os.O_RDWR
	default:
		return 0, false
	}
	if f&fioAPPEND != 0 {
		o |= os.O_APPEND
	}
	if f&fioCREAT != 0 {
		o |= os.O_CREATE
	}
	if f&fioTRUNC != 0 {
		o |= os.O_TRUNC
	}
	if f&fioEXCL != 0 {
		o |= os.O_EXCL
	}
	return o, true
}

// GDB File-I/O errno values.
const (
	fioEPERM        = 1
	fioENOENT       = 2
	fioEINTR        = 4
	fioEBADF        = 9
	fioEACCES       = 13
	fioEFAULT       = 14
	fioEBUSY        = 16
	fioEEXIST       = 17
	fioENODEV       = 19
	fioENOTDIR      = 20
	fioEISDIR       = 21
	fioEINVAL       = 22
	fioENFILE       = 23
	fioEMFILE       = 24
	fioEFBIG        = 27
	fioENOSPC       = 28
	fioESPIPE       = 29
	fioEROFS        = 30
	fioENAMETOOLONG = 91
	fioEUNKNOWN     = 9999
)

var errnoToFileio = map[syscall.Errno]int{
	syscall.EPERM:        fioEPERM,
	syscall.ENOENT:       fioENOENT,
	syscall.EINTR:        fioEINTR,
	syscall.EBADF:        fioEBADF,
	syscall.EACCES:       fioEACCES,
	syscall.EFAULT:       fioEFAULT,
	syscall.EBUSY:        fioEBUSY,
	syscall.EEXIST:       fioEEXIST,
	syscall.ENODEV:       fioENODEV,
	syscall.ENOTDIR:      fioENOTDIR,
	syscall.EISDIR:       fioEISDIR,
	syscall.EINVAL:       fioEINVAL,
	syscall.ENFILE:       fioENFILE,
	syscall.EMFILE:       fioEMFILE,
	syscall.EFBIG:        fioEFBIG,
	syscall.ENOSPC:       fioENOSPC,
	syscall.ESPIPE:       fioESPIPE,
	syscall.EROFS:        fioEROFS,
	syscall.ENAMETOOLONG: fioENAMETOOLONG,
}

// fileioErrno gives the GDB errno for an error from the os package.
func fileioErrno(err error) int {
	var e syscall.Errno
	if errors.As(err, &e) {
		if v, ok := errnoToFileio[e]; ok {
			return v
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fioENOENT
	case errors.Is(err, fs.ErrPermission):
		return fioEACCES
	case errors.Is(err, fs.ErrClosed):
		return fioEBADF
	}
	return fioEUNKNOWN
}

// fileioStat encodes st as GDB's struct stat: 64 bytes, big-endian,
// 32-bit fields but for st_size, st_blksize and st_blocks.
func fileioStat(st *syscall.Stat_t) []byte {
	b := make([]byte, 64)
	be := binary.BigEndian
	be.PutUint32(b[0:], uint32(st.Dev))
	be.PutUint32(b[4:], uint32(st.Ino))
	be.PutUint32(b[8:], st.Mode)
	be.PutUint32(b[12:], uint32(st.Nlink))
	be.PutUint32(b[16:], st.Uid)
	be.PutUint32(b[20:], st.Gid)
	be.PutUint32(b[24:], uint32(st.Rdev))
	be.PutUint64(b[28:], uint64(st.Size))
	be.PutUint64(b[36:], uint64(st.Blksize))
	be.PutUint64(b[44:], uint64(st.Blocks))
	be.PutUint32(b[52:], uint32(st.Atim.Sec))
	be.PutUint32(b[56:], uint32(st.Mtim.Sec))
	be.PutUint32(b[60:], uint32(st.Ctim.Sec))
	return b
}
