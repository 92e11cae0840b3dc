package x86cpu

// cpuid executes CPUID with EAX = leaf and ECX = sub (cpuid_amd64.s).
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv executes XGETBV with ECX = 0: XCR0 (cpuid_amd64.s). Only when
// CPUID says OSXSAVE.
func xgetbv() (eax, edx uint32)

const haveCPUID = true
