package linux

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/target"
)

// TestSetSigInfo: the handler of the faulting program receives the
// siginfo written at its signal's stop (siginfo.c exits with the low
// byte of si_addr: 8 as the kernel made it, 0x66 as written).
func TestSetSigInfo(t *testing.T) {
	bin := gdbtest.CompileC(t, filepath.Join(gdbtest.Root(t), "testdata", "siginfo.c"))
	for _, tc := range []struct {
		name  string
		write bool
		exit  int
	}{{"as the kernel made it", false, 8}, {"written", true, 0x66}} {
		t.Run(tc.name, func(t *testing.T) {
			p := launchFacts(t, bin)
			cont(t, p)
			st := onlyStop(t, nextReal(t, p))
			if st.Reason != target.StopSignal || st.Signal != target.SIGSEGV || len(st.SigInfo) != target.SigInfoSize {
				t.Fatalf("stop %+v, want SIGSEGV with its siginfo", st)
			}
			const siAddr = 16 // si_addr, after si_signo, si_errno, si_code and padding
			if got := binary.LittleEndian.Uint64(st.SigInfo[siAddr:]); got != 8 {
				t.Fatalf("si_addr %#x, want 8", got)
			}
			if tc.write {
				info := append([]byte(nil), st.SigInfo...)
				binary.LittleEndian.PutUint64(info[siAddr:], 0x666)
				if err := p.SetSigInfo(st.Tid, info[:10]); err == nil {
					t.Errorf("SetSigInfo of 10 bytes: no error")
				}
				if err := p.SetSigInfo(st.Tid, info); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: target.SIGSEGV}}); err != nil {
				t.Fatal(err)
			}
			if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != tc.exit {
				t.Fatalf("end %+v, want exit %d", ev, tc.exit)
			}
			if err := p.SetSigInfo(st.Tid, st.SigInfo); !errors.Is(err, target.ErrExited) {
				t.Errorf("SetSigInfo after the end: %v, want ErrExited", err)
			}
		})
	}
}
