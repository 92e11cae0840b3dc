package target

import (
	"maps"
	"slices"
)

// SyscallCatcher is the optional capability of stopping at the entry
// and at the exit of chosen system calls (gdb's `catch syscall`,
// carried by QCatchSyscalls).
type SyscallCatcher interface {
	// CatchSyscalls makes the entry and the exit of each system call of
	// set stop its thread, with StopSyscallEntry and StopSyscallExit
	// (Syscall holding the number), for the following resumes. It is
	// independent of SyscallTracer and SyscallEntryTracer: what they
	// ask for is reported as well, whatever set holds, and a call set
	// does not hold is reported only if they ask for it. The empty set,
	// the default, catches none. Only while stopped.
	//
	// A thread stepped with Step makes no syscall stop (ptrace's single
	// step does not report them).
	CatchSyscalls(set SyscallSet) error
}

// SyscallSet is a set of system call numbers of the process's ABI
// (x86-64: write is 1, exit_group 231), or every system call. The zero
// value is the empty set. A SyscallSet is not changed once made.
type SyscallSet struct {
	all  bool
	nums map[int]struct{}
}

// AllSyscalls is the set of every system call.
func AllSyscalls() SyscallSet { return SyscallSet{all: true} }

// SyscallsOf is the set of the given system calls.
func SyscallsOf(nums ...int) SyscallSet {
	if len(nums) == 0 {
		return SyscallSet{}
	}
	s := SyscallSet{nums: make(map[int]struct{}, len(nums))}
	for _, n := range nums {
		s.nums[n] = struct{}{}
	}
	return s
}

// Has says whether the set holds system call nr.
func (s SyscallSet) Has(nr int) bool {
	if s.all {
		return true
	}
	_, ok := s.nums[nr]
	return ok
}

// Empty says whether the set holds no system call.
func (s SyscallSet) Empty() bool { return !s.all && len(s.nums) == 0 }

// All says whether the set holds every system call.
func (s SyscallSet) All() bool { return s.all }

// Numbers lists the numbers of a set that is not All, in increasing
// order.
func (s SyscallSet) Numbers() []int {
	return slices.Sorted(maps.Keys(s.nums))
}

// Union is the set of the system calls of s or o.
func (s SyscallSet) Union(o SyscallSet) SyscallSet {
	switch {
	case s.all || o.all:
		return AllSyscalls()
	case len(o.nums) == 0:
		return s
	case len(s.nums) == 0:
		return o
	}
	u := SyscallSet{nums: maps.Clone(s.nums)}
	maps.Copy(u.nums, o.nums)
	return u
}

// Equal says whether s and o hold the same system calls.
func (s SyscallSet) Equal(o SyscallSet) bool {
	if s.all || o.all {
		return s.all == o.all
	}
	if len(s.nums) != len(o.nums) {
		return false
	}
	for n := range s.nums {
		if _, ok := o.nums[n]; !ok {
			return false
		}
	}
	return true
}
