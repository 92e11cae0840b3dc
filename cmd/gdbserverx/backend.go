package main

import (
	"os"

	"gdbserverx/server"
	"gdbserverx/target"
	"gdbserverx/target/linux"
)

// linuxBackend starts and attaches processes with ptrace.
type linuxBackend struct{}

func (linuxBackend) Launch(spec server.LaunchSpec) (target.Process, error) {
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
	p, err := linux.Launch(cfg)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (linuxBackend) Attach(pid int) (target.Process, error) {
	p, err := linux.Attach(pid)
	if err != nil {
		return nil, err
	}
	return p, nil
}
