package main

import (
	"os"

	"gdbserverx/server"
	"gdbserverx/target"
	"gdbserverx/target/linux"
)

// linuxBackend starts and attaches processes with ptrace, from the
// server's core thread (linux.Tracer), and reads `info os` tables
// (target.OSDataReader).
type linuxBackend struct {
	tr *linux.Tracer
	linux.OSInfo
}

func (b *linuxBackend) Open() (err error) {
	b.tr, err = linux.NewTracer()
	return err
}

func (b *linuxBackend) EventFd() int { return b.tr.EventFd() }
func (b *linuxBackend) Pump()        { b.tr.Pump() }

func (b *linuxBackend) Launch(spec server.LaunchSpec) (target.Process, error) {
	cfg := linux.Config{
		Path:                 spec.Path,
		Args:                 spec.Args,
		Env:                  spec.Env,
		Dir:                  spec.Dir,
		StartupWithShell:     spec.StartupWithShell,
		DisableRandomization: spec.DisableRandomization,
	}
	if spec.StdioIsRSP {
		// stdin and stdout carry the protocol: the program reads
		// nothing and writes to the server's stderr, as with gdbserver.
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		defer devnull.Close()
		cfg.Stdin, cfg.Stdout = devnull, os.Stderr
	}
	p, err := b.tr.Launch(cfg)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (b *linuxBackend) Attach(pid int) (target.Process, error) {
	p, err := b.tr.Attach(pid)
	if err != nil {
		return nil, err
	}
	return p, nil
}
