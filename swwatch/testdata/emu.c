/* emu: the instruction forms the engine emulates (emulate.go), each a
 * labelled instruction emu_N on the 8-byte cell (alone on its page),
 * followed by an int3. The test sets the registers, runs one with a real
 * single step and once emulated (a fault on the watched cell), and
 * compares. emu_count says how many there are. The test points r8 at pg
 * for emu_62 and fs_base at pg+0x2000 for emu_63 (a TLS-like negative offset:
 * the page of a thread pointer is never protected); for the stack forms
 * (64-76) it puts RSP (or RBP) on the cell, rax and the word at pg+0x10 at
 * emu_target, and the return address at emu_ret. */
struct page {
	volatile unsigned long cell;
	char pad[4096 - 8];
} __attribute__((aligned(4096)));
struct page pg;

#define I(n, text) ".globl emu_" #n "\nemu_" #n ":\n" text "\nint3\n"
__asm__(".text\n"
	I(0, "movq %rax, pg(%rip)")
	I(1, "movl %eax, pg(%rip)")
	I(2, "movw %ax, pg(%rip)")
	I(3, "movb %al, pg(%rip)")
	I(4, "movb %ah, pg(%rip)")
	I(5, "movb %sil, pg(%rip)")
	I(6, "movq pg(%rip), %rcx")
	I(7, "movl pg(%rip), %ecx")
	I(8, "movw pg(%rip), %cx")
	I(9, "movb pg(%rip), %cl")
	I(10, "movb pg(%rip), %ch")
	I(11, "movb pg(%rip), %r9b")
	I(12, "movq $-5, pg(%rip)")
	I(13, "movl $0x89abcdef, pg(%rip)")
	I(14, "movw $0x1234, pg(%rip)")
	I(15, "movb $0x9c, pg(%rip)")
	I(16, "movzbl pg(%rip), %edx")
	I(17, "movzwq pg(%rip), %rdx")
	I(18, "movsbq pg(%rip), %rdx")
	I(19, "movswl pg(%rip), %edx")
	I(20, "movsbw pg(%rip), %dx")
	I(21, "movslq pg(%rip), %rdx")
	I(22, "addq %rbx, pg(%rip)")
	I(23, "addl $7, pg(%rip)")
	I(24, "addb %bl, pg(%rip)")
	I(25, "addq pg(%rip), %rbx")
	I(26, "addw pg(%rip), %bx")
	I(27, "orq $0x100, pg(%rip)")
	I(28, "orl pg(%rip), %ebx")
	I(29, "adcq %rbx, pg(%rip)")
	I(30, "adcb $0x80, pg(%rip)")
	I(31, "sbbq pg(%rip), %rbx")
	I(32, "sbbw %bx, pg(%rip)")
	I(33, "andq $-16, pg(%rip)")
	I(34, "andb pg(%rip), %bh")
	I(35, "subq %rbx, pg(%rip)")
	I(36, "subl $0x7fffffff, pg(%rip)")
	I(37, "xorq pg(%rip), %rbx")
	I(38, "xorw $0x5555, pg(%rip)")
	I(39, "cmpq %rbx, pg(%rip)")
	I(40, "cmpb $0x40, pg(%rip)")
	I(41, "cmpl pg(%rip), %ebx")
	I(42, "testq %rbx, pg(%rip)")
	I(43, "testb $0x81, pg(%rip)")
	I(44, "incq pg(%rip)")
	I(45, "incb pg(%rip)")
	I(46, "decl pg(%rip)")
	I(47, "decw pg(%rip)")
	I(48, "negq pg(%rip)")
	I(49, "negb pg(%rip)")
	I(50, "notl pg(%rip)")
	I(51, "notq pg(%rip)")
	I(52, "xchgq %rbx, pg(%rip)")
	I(53, "xchgb pg(%rip), %bl")
	I(54, "lock xaddq %rbx, pg(%rip)")
	I(55, "xaddw %bx, pg(%rip)")
	I(56, "lock cmpxchgq %rbx, pg(%rip)")
	I(57, "cmpxchgl %ebx, pg(%rip)")
	I(58, "cmpxchgb %bl, pg(%rip)")
	I(59, "lock addq $1, pg(%rip)")
	I(60, "lock orb %bl, pg+3(%rip)")
	I(61, "movq %r12, pg+0x10(%rip)")
	I(62, "movq %rbx, (%r8)")
	I(63, "movq %rbx, %fs:-0x2000")
	I(64, "pushq %rbx")
	I(65, "pushq $-0x12345678")
	I(66, "pushq pg+0x10(%rip)")
	I(67, "popq %rcx")
	I(68, "callq emu_target")
	I(69, "callq *%rax")
	I(70, "callq *pg+0x10(%rip)")
	I(71, "retq")
	I(72, "retq $16")
	I(73, "leaveq")
	I(74, "pushw %bx")
	I(75, "popw %cx")
	I(76, "pushq %rsp")
	".globl emu_target\nemu_target: int3\n"
	".globl emu_ret\nemu_ret: int3\n"
);
const int emu_count = 77;

int main(void) {
	__asm__ volatile("int3");
	return 0;
}
