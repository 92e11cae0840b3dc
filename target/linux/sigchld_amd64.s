#include "textflag.h"
#include "go_asm.h"

// sigchldHandler is SIGCHLD's handler (see sigchld.go): it writes 1 to
// every eventfd in notifyFDs. It runs on any thread of the server, on the
// signal stack (SA_ONSTACK), with whatever registers the interrupted code
// had; the kernel restores all of them at sigreturn, so it may clobber
// any. It touches no Go state but two globals, calls nothing, and never
// grows a stack.
TEXT ·sigchldHandler(SB),NOSPLIT|NOFRAME,$0
	LEAQ ·notifyFDs(SB), R12
	MOVQ $0, R13
loop:
	CMPQ R13, $const_maxNotifyFDs
	JGE done
	MOVLQSX (R12)(R13*4), DI
	INCQ R13
	CMPQ DI, $0
	JLT loop
	LEAQ ·eventOne(SB), SI
	MOVQ $8, DX
	MOVQ $1, AX // SYS_write
	SYSCALL
	JMP loop
done:
	RET

// sigreturn is the handler's restorer (SA_RESTORER): rt_sigreturn.
TEXT ·sigreturn(SB),NOSPLIT|NOFRAME,$0
	MOVQ $15, AX // SYS_rt_sigreturn
	SYSCALL
	INT $3

// handlerAddrs returns the ABI0 entry points of the two above: a Go func
// value would name an ABIInternal wrapper, which assumes a goroutine.
TEXT ·handlerAddrs(SB),NOSPLIT,$0-16
	LEAQ ·sigchldHandler(SB), AX
	MOVQ AX, handler+0(FP)
	LEAQ ·sigreturn(SB), AX
	MOVQ AX, restorer+8(FP)
	RET
