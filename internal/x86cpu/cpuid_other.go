//go:build !amd64

package x86cpu

// Elsewhere than on x86-64 there is no CPUID: Host describes a CPU with
// no vendor, no feature and no XSAVE.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32) { return 0, 0, 0, 0 }
func xgetbv() (eax, edx uint32)                          { return 0, 0 }

const haveCPUID = false
