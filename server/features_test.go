package server

import (
	"strings"
	"testing"

	"gdbserverx/target"
)

// plainProcess is a target with no optional capability: its embedded
// interface hides fakeProcess's Breakpoints and HardwareDebug.
type plainProcess struct{ target.Process }

// auxvProcess is the fake with an auxiliary vector (target.AuxvReader)
// and nothing else of what the system says (factsProcess, facts_test.go,
// has it all).
type auxvProcess struct{ *fakeProcess }

func (auxvProcess) Auxv() ([]byte, error) { return make([]byte, 16), nil }

// TestFeatures: qSupported, vCont? and the Z types a client is offered
// follow what the target implements and what the configuration allows,
// one table; the handlers of those packets agree with the offer.
func TestFeatures(t *testing.T) {
	const (
		head   = "PacketSize=20000;QPassSignals+;QProgramSignals+;QStartupWithShell+;QEnvironmentHexEncoded+;QEnvironmentReset+;QEnvironmentUnset+;QSetWorkingDir+;QDisableRandomization+;qXfer:features:read+;"
		middle = "qXfer:siginfo:read+;QStartNoAckMode+;vContSupported+;"
		agent  = "ConditionalBreakpoints+;BreakpointCommands+;"
		vCont  = "vCont;c;C;s;S;t;r"
	)
	for _, tc := range []struct {
		name      string
		disabled  []string
		target    func(*fakeProcess) target.Process // nil: no process yet (--multi)
		supported string
		vCont     string
		points    string // Z0-Z4 served: "+" or "-" each
	}{
		{"a target with every capability", nil, func(f *fakeProcess) target.Process { return &factsProcess{fakeProcess: f} },
			head + "qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:libraries-svr4:read+;" + middle + "qXfer:threads:read+;" + agent + "multiprocess+;swbreak+;hwbreak+;exec-events+;no-resumed+",
			vCont, "+++++"},
		{"an auxiliary vector but no library list", nil, func(f *fakeProcess) target.Process { return auxvProcess{f} },
			head + "qXfer:auxv:read+;qXfer:exec-file:read+;" + middle + "qXfer:threads:read+;" + agent + "multiprocess+;swbreak+;hwbreak+;exec-events+;no-resumed+",
			vCont, "+++++"},
		{"neither auxiliary vector nor library list", nil, func(f *fakeProcess) target.Process { return f },
			head + "qXfer:exec-file:read+;" + middle + "qXfer:threads:read+;" + agent + "multiprocess+;swbreak+;hwbreak+;exec-events+;no-resumed+",
			vCont, "+++++"},
		{"no breakpoints, no debug registers", nil, func(f *fakeProcess) target.Process { return plainProcess{f} },
			head + "qXfer:exec-file:read+;" + middle + "qXfer:threads:read+;multiprocess+;exec-events+;no-resumed+",
			vCont, "-----"},
		{"--disable-packet=vCont", []string{"vCont"}, func(f *fakeProcess) target.Process { return &factsProcess{fakeProcess: f} },
			head + "qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:libraries-svr4:read+;" + middle + "qXfer:threads:read+;" + agent + "multiprocess+;swbreak+;hwbreak+;exec-events+;no-resumed+",
			"", "+++++"},
		{"--disable-packet=threads", []string{"threads", "vCont", "qC", "qfThreadInfo", "Tthread"}, func(f *fakeProcess) target.Process { return &factsProcess{fakeProcess: f} },
			head + "qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:libraries-svr4:read+;" + middle + agent + "multiprocess+;swbreak+;hwbreak+;exec-events+;no-resumed+",
			"", "+++++"},
		{"no process yet: the target's offer is assumed", nil, nil,
			head + "qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:libraries-svr4:read+;qXfer:siginfo:read+;qXfer:siginfo:write+;QStartNoAckMode+;QNonStop+;vContSupported+;qXfer:threads:read+;QCatchSyscalls+;" + agent + "multiprocess+;swbreak+;hwbreak+;exec-events+;fork-events+;vfork-events+;no-resumed+",
			vCont, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.s.cfg.DisabledPackets = map[string]bool{}
			for _, p := range tc.disabled {
				h.s.cfg.DisabledPackets[p] = true
			}
			h.s.offer.serverFeatures = serverFeaturesOf(h.s.cfg)
			if tc.target != nil {
				h.s.setProc(newProcess(tc.target(h.f), fakeBackend{}, h.s.log, false, "prog"))
				h.s.procs.main().threads = []target.Tid{100, 101}
			} else {
				h.s = newServer(h.s.cfg, h.s.wake) // --multi: no process yet
			}
			c := h.client()
			h.send(c, "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;xmlRegisters=i386")
			if got := h.replies(c); len(got) != 1 || got[0] != tc.supported {
				t.Errorf("qSupported:\n got %q\nwant %q", got, tc.supported)
			}
			h.send(c, "vCont?")
			if got := h.replies(c); len(got) != 1 || got[0] != tc.vCont {
				t.Errorf("vCont?: %q, want %q", got, tc.vCont)
			}
			if tc.target == nil {
				return
			}
			var points strings.Builder
			for _, z := range []string{"Z0,1000,1", "Z1,1000,1", "Z2,2000,4", "Z3,3000,4", "Z4,4000,8"} {
				h.send(c, z)
				switch got := h.replies(c); {
				case len(got) == 1 && got[0] == "OK":
					points.WriteByte('+')
				case len(got) == 1 && got[0] == "":
					points.WriteByte('-')
				default:
					t.Errorf("%s: %q", z, got)
				}
				h.send(c, "z"+z[1:]) // its slots are free for the next Z
				h.replies(c)
			}
			if points.String() != tc.points {
				t.Errorf("Z0-Z4 served: %s, want %s", points.String(), tc.points)
			}
		})
	}
}
