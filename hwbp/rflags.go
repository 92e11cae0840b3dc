package hwbp

// RFLAGS bits of the debug architecture (Intel SDM vol. 3B, "Debug
// Exceptions": "Single-Step Exception Condition" and
// "Instruction-Breakpoint Exception Condition"; vol. 1 "EFLAGS
// Register"). They belong with DR6 and DR7: TF is what sets DR6.BS, RF is
// what lets an instruction whose execute slot fired run once.
const (
	// FlagTF is the trap flag: a debug exception (DR6.BS) after the next
	// instruction. Linux keeps its own single-step flag apart from a
	// tracee's (arch/x86/kernel/step.c), so TF set in a thread's RFLAGS
	// is the program's own.
	FlagTF uint64 = 1 << 8
	// FlagRF is the resume flag: instruction breakpoints are ignored for
	// one instruction, and every instruction that completes clears it.
	FlagRF uint64 = 1 << 16
)
