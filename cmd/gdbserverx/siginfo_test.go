package main

import (
	"testing"

	"gdbserverx/internal/gdbtest"
)

// Writing a stop's siginfo (qXfer:siginfo:write), through gdbserverx and
// GNU gdbserver.

// TestSiginfoWrite: `set $_siginfo._sifields._sigfault.si_addr = 0x666`
// at a SIGSEGV, then continue: the program's handler receives the
// written si_addr (siginfo.c exits with its low byte: 0x66), as with GNU
// gdbserver; gdb reads back what it wrote.
func TestSiginfoWrite(t *testing.T) {
	prog := gdbtest.Program(t, "siginfo")
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
		out := gdbtest.Batch(t, "target remote "+srv.Addr(), "continue",
			"print $_siginfo._sifields._sigfault.si_addr",
			"set $_siginfo._sifields._sigfault.si_addr = 0x666",
			"print $_siginfo._sifields._sigfault.si_addr",
			"print $_siginfo.si_signo",
			"continue")
		contains(t, out,
			`Program received signal SIGSEGV`,
			`\$1 = \(void \*\) 0x8\n`,
			`\$2 = \(void \*\) 0x666\n`,
			`\$3 = 11\n`,
			`\[Inferior 1 \(process \d+\) exited with code 0146\]`,
		)
		if t.Failed() {
			t.Logf("%s", name)
		}
	}
}
