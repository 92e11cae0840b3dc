package linux

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"gdbserverx/target"
)

// Thread-local storage (target.TLSResolver), as glibc lays it out on
// x86-64 (TLS variant II: the thread control block at the thread
// pointer, the static TLS blocks below it). GNU gdbserver asks
// libthread_db; this file reads the same structures itself:
//
//   - the thread pointer is the thread's fs_base: the address of its
//     struct pthread, which starts with the TCB (tcbhead_t), whose dtv
//     field points at the thread's dynamic thread vector;
//   - a module's TLS block in a thread is dtv[l_tls_modid].pointer.val,
//     valid when the DTV's generation (dtv[0].counter) is at least the
//     module's, which the dynamic linker keeps in its slot-info list
//     (_rtld_global._dl_tls_dtv_slotinfo_list) with the module's
//     link_map; an entry with its low bit set is not allocated
//     (TLS_DTV_UNALLOCATED);
//   - a module in the static TLS area (the program, the libraries
//     loaded at start, a dlopen'ed one that uses the initial-exec
//     model) has its block at the thread pointer minus its
//     l_tls_offset, whatever the DTV says, unless l_tls_offset is
//     NO_TLS_OFFSET (0) or FORCED_DYNAMIC_TLS_OFFSET (-1).
//
// The offsets of those fields in glibc's private structures (struct
// pthread, dtv_t, struct link_map, struct rtld_global and the slot-info
// list) are not guessed: glibc publishes them for libthread_db as
// _thread_db_* symbols in libc's dynamic symbol table (libpthread's
// before glibc 2.34; nptl/db_info.c, nptl_db/structs.def), each three
// 32-bit words: the field's size in bits, its element count, its byte
// offset. The server reads them from the process's memory, once per
// program (again after an exec), and _rtld_global's address from the
// dynamic linker's dynamic symbols. This is td_thr_tlsbase's algorithm
// (glibc nptl_db/td_thr_tlsbase.c).

// tlsField is one of glibc's descriptors: a field of a structure, or an
// array of fields.
type tlsField struct {
	bits, count, offset uint32
}

// at is the address of element i of the field in the structure at base.
func (f tlsField) at(base, i uint64) uint64 {
	return base + uint64(f.offset) + i*uint64(f.bits/8)
}

// read reads element i of the field in the structure at base.
func (f tlsField) read(m *memory, base, i uint64) (uint64, error) {
	switch f.bits {
	case 64:
		return readU64(m, f.at(base, i))
	case 32:
		var b [4]byte
		if err := readFull(m, f.at(base, i), b[:]); err != nil {
			return 0, err
		}
		return uint64(binary.LittleEndian.Uint32(b[:])), nil
	}
	return 0, fmt.Errorf("a field of %d bits", f.bits)
}

// tlsLayout is what the resolver needs of glibc: its descriptors and
// the address of _rtld_global.
type tlsLayout struct {
	dtvp, dtv, counter, pointerVal   tlsField // struct pthread's dtv pointer; dtv[]; dtv_t's two members
	modid, tlsOffset                 tlsField // struct link_map
	slotList                         tlsField // struct rtld_global's _dl_tls_dtv_slotinfo_list
	listLen, listNext, listSlots     tlsField // struct dtv_slotinfo_list
	slotGen, slotMap                 tlsField // struct dtv_slotinfo
	rtldGlobal                       uint64
	noTLSOffset, forcedDynamicOffset int64
}

// tlsDescriptors names each descriptor symbol (without _thread_db_) and
// where it goes.
func (l *tlsLayout) tlsDescriptors() map[string]*tlsField {
	return map[string]*tlsField{
		"pthread_dtvp": &l.dtvp, "dtv_dtv": &l.dtv, "dtv_t_counter": &l.counter, "dtv_t_pointer_val": &l.pointerVal,
		"link_map_l_tls_modid": &l.modid, "link_map_l_tls_offset": &l.tlsOffset,
		"rtld_global__dl_tls_dtv_slotinfo_list": &l.slotList,
		"dtv_slotinfo_list_len":                 &l.listLen, "dtv_slotinfo_list_next": &l.listNext,
		"dtv_slotinfo_list_slotinfo": &l.listSlots, "dtv_slotinfo_gen": &l.slotGen, "dtv_slotinfo_map": &l.slotMap,
	}
}

// maxTLSModules bounds the modules walked in the slot-info list (a
// corrupt list must not loop).
const maxTLSModules = 1 << 20

// TLSAddress finds a thread-local variable (see target.TLSResolver).
// lm 0 names the program.
func (f *facts) TLSAddress(tid target.Tid, lm, offset uint64) (uint64, error) {
	p := f.p
	if err := p.usable(); err != nil {
		return 0, err
	}
	th, err := p.stoppedThread(tid)
	if err != nil {
		return 0, err
	}
	if err := p.loadGP(th); err != nil {
		return 0, err
	}
	tp := th.regs.gp.Fs_base
	if tp == 0 {
		// Before the dynamic linker has set the thread pointer up.
		return 0, fmt.Errorf("thread %d: no thread pointer yet: %w", tid, target.ErrTLSNotAllocated)
	}
	l, err := f.tlsLayout()
	if err != nil {
		return 0, err
	}
	if lm == 0 {
		list, err := f.Libraries()
		if err != nil || list.MainLM == 0 {
			return 0, fmt.Errorf("thread-local storage of the program: no link map (%v)", err)
		}
		lm = list.MainLM
	}
	base, err := l.blockOf(p.mem, tp, lm)
	if err != nil {
		return 0, fmt.Errorf("thread-local storage of thread %d, link map %#x: %w", tid, lm, err)
	}
	return base + offset, nil
}

// blockOf is the address of the TLS block of the module at lm in the
// thread whose thread pointer is tp.
func (l *tlsLayout) blockOf(m *memory, tp, lm uint64) (uint64, error) {
	modid, err := l.modid.read(m, lm, 0)
	if err != nil {
		return 0, fmt.Errorf("l_tls_modid: %w", err)
	}
	if modid == 0 {
		return 0, target.ErrNoTLS
	}
	gen, err := l.moduleGeneration(m, modid)
	if err != nil {
		return 0, err
	}
	dtv, err := l.dtvp.read(m, tp, 0)
	if err != nil {
		return 0, fmt.Errorf("dtv pointer: %w", err)
	}
	dtvGen, err := l.counter.read(m, l.dtv.at(dtv, 0), 0)
	if err != nil {
		return 0, fmt.Errorf("dtv generation: %w", err)
	}
	// dtv[-1].counter is the number of slots the vector has.
	slots, err := l.counter.read(m, dtv-uint64(l.dtv.bits/8), 0)
	if err == nil && dtvGen >= gen && modid <= slots {
		val, err := l.pointerVal.read(m, l.dtv.at(dtv, modid), 0)
		if err != nil {
			return 0, fmt.Errorf("dtv[%d]: %w", modid, err)
		}
		if val&1 == 0 && val != 0 {
			return val, nil
		}
	}
	// The thread's vector does not have the module (yet): a module in
	// the static TLS area is at its fixed distance from the thread
	// pointer all the same.
	off, err := l.tlsOffset.read(m, lm, 0)
	if err != nil {
		return 0, fmt.Errorf("l_tls_offset: %w", err)
	}
	if o := int64(off); o != l.noTLSOffset && o != l.forcedDynamicOffset {
		return tp - off, nil
	}
	return 0, target.ErrTLSNotAllocated
}

// moduleGeneration is the generation of the DTV module modid needs, from
// the slot-info list.
func (l *tlsLayout) moduleGeneration(m *memory, modid uint64) (uint64, error) {
	list, err := l.slotList.read(m, l.rtldGlobal, 0)
	if err != nil {
		return 0, fmt.Errorf("slot-info list: %w", err)
	}
	base := uint64(0)
	for n := 0; list != 0 && n < maxTLSModules; n++ {
		length, err := l.listLen.read(m, list, 0)
		if err != nil {
			return 0, fmt.Errorf("slot-info list length: %w", err)
		}
		if modid < base+length {
			slot := l.listSlots.at(list, modid-base)
			if lm, err := l.slotMap.read(m, slot, 0); err != nil || lm == 0 {
				return 0, fmt.Errorf("module %d: no link map in its slot (%v)", modid, err)
			}
			return l.slotGen.read(m, slot, 0)
		}
		base += length
		if list, err = l.listNext.read(m, list, 0); err != nil {
			return 0, fmt.Errorf("slot-info list: %w", err)
		}
	}
	return 0, fmt.Errorf("module %d: not in the slot-info list", modid)
}

// errNoThreadDB: no loaded object publishes glibc's descriptors (not
// glibc, a static program, or libc not loaded yet).
var errNoThreadDB = errors.New("no glibc thread_db descriptors (_thread_db_*) in the loaded objects")

// tlsLayout reads glibc's descriptors, once per program.
func (f *facts) tlsLayout() (*tlsLayout, error) {
	if f.tls != nil {
		return f.tls, nil
	}
	list, err := f.Libraries()
	if err != nil {
		return nil, err
	}
	root, err := f.FileRoot()
	if err != nil {
		return nil, err
	}
	l := &tlsLayout{noTLSOffset: 0, forcedDynamicOffset: -1}
	want := l.tlsDescriptors()
	found := 0
	for _, lib := range list.Libraries {
		if lib.Name == "" {
			continue
		}
		syms, err := dynamicSymbols(filepath.Join(root, lib.Name))
		if err != nil {
			continue
		}
		for _, s := range syms {
			if s.Section == elf.SHN_UNDEF {
				continue // a reference to another object's symbol
			}
			switch {
			case s.Name == "_rtld_global" && l.rtldGlobal == 0:
				l.rtldGlobal = lib.Addr + s.Value
			case strings.HasPrefix(s.Name, "_thread_db_"):
				fl := want[strings.TrimPrefix(s.Name, "_thread_db_")]
				if fl == nil || fl.bits != 0 {
					continue
				}
				var b [12]byte
				if err := readFull(f.p.mem, lib.Addr+s.Value, b[:]); err != nil {
					return nil, fmt.Errorf("%s in %s: %w", s.Name, lib.Name, err)
				}
				*fl = tlsField{binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])}
				found++
			}
		}
	}
	if found < len(want) || l.rtldGlobal == 0 {
		return nil, fmt.Errorf("%w (%d of %d found; _rtld_global %#x)", errNoThreadDB, found, len(want), l.rtldGlobal)
	}
	for name, fl := range want {
		if fl.bits == 0 || fl.bits%8 != 0 {
			return nil, fmt.Errorf("_thread_db_%s: a field of %d bits", name, fl.bits)
		}
	}
	f.tls = l
	return l, nil
}

// dynamicSymbols reads an ELF file's dynamic symbols.
func dynamicSymbols(path string) ([]elf.Symbol, error) {
	file, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return file.DynamicSymbols()
}
