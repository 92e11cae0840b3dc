package server

import (
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// What the server offers a client is computed in one place, from what it
// and the target actually implement (STYLE.md, "Optional features"): the
// server's part from its configuration (gdbserver's --disable-packet)
// when it is made, the target's from the process's optional interfaces
// when the process is wired (newProcess). qSupported, vCont? and the Z
// types served are derived from the two (supportedFeatures,
// resumeActions, servesPoint), and the handlers of the packets they name
// ask the same set; target.xml is the process's own register description
// (tdesc.go), rendered once at wiring.

// serverFeatures is what the server's configuration allows.
type serverFeatures struct {
	vCont         bool // vCont and vCont? (--disable-packet=vCont)
	currentThread bool // qC
	threadList    bool // qfThreadInfo, qsThreadInfo
	threadsXfer   bool // qXfer:threads:read (--disable-packet=threads)
	osdata        bool // qXfer:osdata:read: the backend is a target.OSDataReader
}

// targetFeatures is what a process's target implements beyond
// target.Process.
type targetFeatures struct {
	softwareBreak  bool // Z0: target.Breakpoints
	hardwarePoints bool // Z1-Z4: target.HardwareDebug
	auxv           bool // qXfer:auxv:read: target.AuxvReader
	libraries      bool // qXfer:libraries-svr4:read: target.LibraryLister
	forks          bool // fork-events, vfork-events: target.ForkFollower
	nonStop        bool // QNonStop: target.NonStop
	catchSyscalls  bool // QCatchSyscalls: target.SyscallCatcher
	sigInfoWrite   bool // qXfer:siginfo:write: target.SigInfoWriter
}

// features is the whole set a client is offered (Server.offer).
type features struct {
	serverFeatures
	targetFeatures
}

// assumedTarget is what the server offers of a target before it has had
// one (--multi, before the first vRun or vAttach): gdb asks qSupported
// once, at connect, so the offer is made for the process to come. Every
// target this server is wired to (target/linux, wrapped by swwatch) has
// them all; a packet a later process cannot serve gets the empty reply.
var assumedTarget = targetFeatures{softwareBreak: true, hardwarePoints: true, auxv: true, libraries: true, forks: true, nonStop: true, catchSyscalls: true, sigInfoWrite: true}

// serverFeaturesOf is what a configuration allows.
func serverFeaturesOf(cfg Config) serverFeatures {
	off := cfg.DisabledPackets
	_, osdata := cfg.Backend.(target.OSDataReader)
	return serverFeatures{vCont: !off["vCont"], currentThread: !off["qC"], threadList: !off["qfThreadInfo"], threadsXfer: !off["threads"], osdata: osdata}
}

// targetFeaturesOf checks a target's optional interfaces.
func targetFeaturesOf(t target.Process) targetFeatures {
	_, bps := t.(target.Breakpoints)
	_, hw := t.(target.HardwareDebug)
	_, auxv := t.(target.AuxvReader)
	_, libs := t.(target.LibraryLister)
	_, forks := t.(target.ForkFollower)
	_, nonStop := t.(target.NonStop)
	_, catch := t.(target.SyscallCatcher)
	_, sigw := t.(target.SigInfoWriter)
	return targetFeatures{softwareBreak: bps, hardwarePoints: hw, auxv: auxv, libraries: libs, forks: forks, nonStop: nonStop, catchSyscalls: catch, sigInfoWrite: sigw}
}

// clientFeatures are the qSupported features a client announces that
// change what the server sends it.
type clientFeatures struct {
	multiprocess, swbreak, hwbreak, execEvents bool
	// forkEvents and vforkEvents: the client is told of forks (vforks)
	// and debugs the children (fork.go). gdb asks them only with
	// multiprocess ids, which name the child.
	forkEvents, vforkEvents bool
	// noResumed: the client reads N, "no thread left to resume"
	// (threadexit.go).
	noResumed bool
}

// negotiate records what a client announced in qSupported, as far as the
// server serves it: a stop reason the server cannot report is not
// offered.
func (f features) negotiate(q *rsp.QuerySupported) clientFeatures {
	return clientFeatures{
		multiprocess: q.Supports("multiprocess"),
		swbreak:      q.Supports("swbreak") && f.softwareBreak,
		hwbreak:      q.Supports("hwbreak") && f.hardwarePoints,
		execEvents:   q.Supports("exec-events"),
		forkEvents:   q.Supports("fork-events") && q.Supports("multiprocess") && f.forks,
		vforkEvents:  q.Supports("vfork-events") && q.Supports("multiprocess") && f.forks,
		noResumed:    q.Supports("no-resumed"),
	}
}

// supportedFeatures is the qSupported reply: the packets and objects
// served, then the client's features the server takes up.
func (f features) supportedFeatures(c clientFeatures) []rsp.Feature {
	on := func(name string) rsp.Feature { return rsp.Feature{Name: name, State: rsp.FeatureSupported} }
	out := []rsp.Feature{
		rsp.PacketSizeFeature(PacketSize),
		on("QPassSignals"), on("QProgramSignals"),
		on("QStartupWithShell"), on("QEnvironmentHexEncoded"), on("QEnvironmentReset"), on("QEnvironmentUnset"),
		on("QSetWorkingDir"), on("QDisableRandomization"),
		on("qXfer:features:read"),
	}
	if f.auxv {
		out = append(out, on("qXfer:auxv:read"))
	}
	out = append(out, on("qXfer:exec-file:read"))
	if f.libraries {
		out = append(out, on("qXfer:libraries-svr4:read"))
	}
	out = append(out, on("qXfer:siginfo:read"))
	if f.sigInfoWrite {
		out = append(out, on("qXfer:siginfo:write"))
	}
	out = append(out, on("QStartNoAckMode"))
	if f.nonStop {
		out = append(out, on("QNonStop"))
	}
	out = append(out, on("vContSupported"))
	if f.threadsXfer {
		out = append(out, on("qXfer:threads:read"))
	}
	if f.osdata {
		out = append(out, on("qXfer:osdata:read"))
	}
	if f.catchSyscalls {
		out = append(out, on("QCatchSyscalls"))
	}
	if f.softwareBreak {
		// Conditions and commands of Z0 and Z1, evaluated by the
		// server (conditions.go).
		out = append(out, on("ConditionalBreakpoints"), on("BreakpointCommands"))
	}
	for _, opt := range []struct {
		name string
		on   bool
	}{{"multiprocess", c.multiprocess}, {"swbreak", c.swbreak}, {"hwbreak", c.hwbreak}, {"exec-events", c.execEvents}, {"fork-events", c.forkEvents}, {"vfork-events", c.vforkEvents}, {"no-resumed", c.noResumed}} {
		if opt.on {
			out = append(out, on(opt.name))
		}
	}
	return out
}

// resumeActions is what vCont? lists: continue, step, stop and range
// step (rangestep.go); none, and the empty reply, when vCont is
// disabled.
func (f features) resumeActions() []rsp.ResumeKind {
	if !f.vCont {
		return nil
	}
	return []rsp.ResumeKind{rsp.ResumeContinue, rsp.ResumeStep, rsp.ResumeStop, rsp.ResumeRangeStep}
}

// servesPoint says whether a Z or z of a type is served; gdb takes the
// empty reply to one that is not for "not supported", and stops sending
// it.
func (f features) servesPoint(t rsp.BreakpointType) bool {
	switch t {
	case rsp.SoftwareBreakpoint:
		return f.softwareBreak
	case rsp.HardwareBreakpoint, rsp.WriteWatchpoint, rsp.ReadWatchpoint, rsp.AccessWatchpoint:
		return f.hardwarePoints
	}
	return false
}
