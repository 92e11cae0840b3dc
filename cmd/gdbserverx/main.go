// Command gdbserverx is a gdb remote-serial-protocol server for x86-64
// Linux that several debuggers can use at once. Its command line is
// gdbserver's:
//
//	gdbserverx [OPTIONS] COMM PROG [ARGS ...]
//	gdbserverx [OPTIONS] --attach COMM PID
//	gdbserverx [OPTIONS] --multi COMM
//
// This package parses the command line, opens the transports and wires the
// server to the Linux target; nothing else.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"syscall"

	"gdbserverx/internal/comm"
	"gdbserverx/server"
)

// version is printed by --version.
const version = "0.1"

func main() {
	if os.Getenv("GOGC") == "" {
		// The garbage collector's smallest heap goal is 4 MiB at GOGC=100:
		// the server's peak RSS was 10.9 MiB through a stepi benchmark,
		// 9.1 at 50, for 0-4% more server CPU per event (shared
		// bench/run.sh -b stepi,bp; bench/RESULTS.md). GOGC in the
		// environment still decides.
		debug.SetGCPercent(50)
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gdbserverx: %v\n\n%s", err, usageText)
		return 1
	}
	if o.help {
		fmt.Fprint(os.Stdout, usageText)
		return 0
	}
	if o.version {
		fmt.Fprintf(os.Stdout, "gdbserverx %s\nA gdb remote server for x86-64 Linux that several debuggers can share.\n", version)
		return 0
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "gdbserverx: --cpuprofile: %v\n", err)
			return 1
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	cfg := server.Config{
		Backend:         &linuxBackend{},
		Multi:           o.multi,
		Once:            o.once,
		MaxClients:      o.clients,
		Policy:          o.policy,
		PassSignals:     o.passSignals,
		DisabledPackets: o.disablePackets,
		Log:             stderr,
		Debug:           o.debug,
		RemoteDebug:     o.remoteDebug,
		VFileAny:        o.vfileAny,
		VFileRoots:      o.vfileRoots,
	}
	if o.eventLog != "" {
		f, err := os.OpenFile(o.eventLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "gdbserverx: --event-log: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.EventLog = f
	}
	stdioIsRSP := false
	for _, ls := range o.listens {
		if ls.comm.Kind == comm.Stdio {
			stdioIsRSP = true
		}
	}
	if o.program != "" {
		cfg.Program = &server.LaunchSpec{
			Path:                 o.program,
			Args:                 o.args,
			StartupWithShell:     o.startupWithShell,
			DisableRandomization: o.disableRandomization,
			StdioIsRSP:           stdioIsRSP,
		}
	}
	// dprintf-style agent prints where gdbserver prints it, on the
	// server's standard output, unless that carries the protocol.
	cfg.AgentOutput = os.Stdout
	if stdioIsRSP {
		cfg.AgentOutput = stderr
	}
	cfg.AttachPID = o.pid
	cfg.DefaultLaunch = server.LaunchSpec{StartupWithShell: o.startupWithShell, DisableRandomization: o.disableRandomization, StdioIsRSP: stdioIsRSP}

	// Listen before starting the program: a port in use is reported
	// without leaving a process behind.
	for _, ls := range o.listens {
		l, err := comm.Listen(ls.comm)
		if err != nil {
			fmt.Fprintf(stderr, "gdbserverx: %v\n", err)
			closeAll(cfg.Listeners)
			return 1
		}
		cfg.Listeners = append(cfg.Listeners, server.ListenerConfig{Listener: l, Priority: ls.priority, MaxPriority: ls.maxPriority, AllowPin: ls.allowPin, Role: ls.role, AllowUIDs: o.allowUIDs})
	}
	defer closeAll(cfg.Listeners)

	// SIGTERM, SIGINT and SIGHUP make the server leave as `monitor exit`
	// does (a program it started is killed; a process it attached to is
	// given back whole and runs on), say why, and exit with 128+signal,
	// as shells expect of a program a signal ended. They are caught from
	// here on, before the program is started or attached to: until Run
	// serves the cancel, they wait. A second one ends the server at once. Ctrl-C typed at the terminal goes to
	// the program only: it runs in its own process group, in the
	// terminal's foreground (target/linux).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, leaveSignals...)
	defer signal.Stop(sigs)
	signal.Ignore(syscall.SIGPIPE, syscall.SIGTTOU, syscall.SIGTTIN)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var got atomic.Value // the signal that ended the server
	go func() {
		select {
		case sig := <-sigs:
			// A second signal ends the server at once (the default
			// action), should leaving hang.
			signal.Stop(sigs)
			got.Store(sig)
			cancel(fmt.Errorf("received %s", signalName(sig)))
		case <-ctx.Done():
		}
	}()

	s, err := server.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "gdbserverx: %v\nExiting\n", err)
		return 1
	}
	for _, l := range cfg.Listeners {
		fmt.Fprintln(stderr, l.Listener.Ready())
		if addr, public := comm.Public(l.Listener); public {
			fmt.Fprintf(stderr, "Warning: %s is not a loopback address: anyone who can reach it can %s (role %s; README, \"Security\")\n", addr, roleReach(l.Role), l.Role)
		}
	}

	err = s.Run(ctx)
	switch {
	case errors.Is(err, context.Canceled):
		// got is stored before the cancel.
		if sig, ok := got.Load().(syscall.Signal); ok {
			return 128 + int(sig)
		}
	case err != nil:
		fmt.Fprintf(stderr, "gdbserverx: %v\n", err)
		return 1
	}
	return 0
}

// roleReach says what a client of a role can do to the program, for the
// warning about a listener anyone may reach.
func roleReach(r server.Role) string {
	switch r {
	case server.RoleObserver:
		return "read the program's memory and registers"
	case server.RoleDebugger:
		return "control the program"
	}
	return "control the program, start others and stop the server"
}

// leaveSignals make the server leave (see run).
var leaveSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// signalName names a signal as people write it: SIGTERM.
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

func closeAll(ls []server.ListenerConfig) {
	for _, l := range ls {
		l.Listener.Close()
	}
}
