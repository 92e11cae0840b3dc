package server

import (
	"io"

	"gdbserverx/internal/comm"
	"gdbserverx/target"
)

// Backend starts and attaches processes, and tells the core loop when
// their events may be ready. cmd wires it to target/linux; tests may wire
// a fake.
//
// Every method is called on the server's core thread, which the server
// locks to its goroutine for good before it calls Open: with ptrace, that
// thread becomes the tracer of every process the backend starts or
// attaches, so that packets, ptrace calls and replies all happen on it
// (DESIGN.md, "Threads of the server").
type Backend interface {
	// Open binds the backend to the calling thread.
	Open() error
	Launch(spec LaunchSpec) (target.Process, error)
	Attach(pid int) (target.Process, error)
	// EventFd is polled for POLLIN beside the sockets; when it is
	// readable, the core loop calls Pump, then takes each process's
	// events with NextEvent.
	EventFd() int
	Pump()
}

// LaunchSpec says how to start a program, as gdbserver's command line or
// gdb's `run` (vRun and the Q packets before it) say.
type LaunchSpec struct {
	Path                 string
	Args                 []string // argv, argv[0] included
	Env                  []string // nil: the server's environment
	Dir                  string   // "": the server's working directory
	StartupWithShell     bool
	DisableRandomization bool
	// StdioIsRSP says the server's stdin and stdout carry the protocol
	// (COMM '-'), so the program must not use them: its stdin is
	// /dev/null and its stdout goes to the server's stderr.
	StdioIsRSP bool
}

// ListenerConfig is one listening transport and the priorities of the
// clients it accepts.
type ListenerConfig struct {
	Listener comm.Listener
	// Priority is the default priority of its clients; MaxPriority the
	// ceiling `monitor priority N` may raise a client to.
	Priority    int
	MaxPriority int
	// AllowPin lets its clients use `monitor pin on`.
	AllowPin bool
	// Role is what its clients may do (roles.go); the zero value is
	// RoleOwner, gdbserver's client.
	Role Role
	// AllowUIDs are the users whose processes may connect through a
	// unix socket (SO_PEERCRED); nil means the server's own user.
	AllowUIDs []int
}

// Config is everything the server needs, made by cmd from the command line.
type Config struct {
	Backend   Backend
	Listeners []ListenerConfig

	// Program, when set, is launched before the server listens
	// (gdbserver COMM PROG ARGS). AttachPID, when nonzero, is attached
	// instead (gdbserver --attach COMM PID). With neither, Multi must
	// be set (gdbserver --multi COMM).
	Program   *LaunchSpec
	AttachPID int
	// DefaultLaunch holds the settings (shell, randomization, stdio) for
	// programs that clients start with vRun (gdb's `run`).
	DefaultLaunch LaunchSpec

	// Multi keeps the server alive without a process, until `monitor
	// exit` (gdbserver --multi).
	Multi bool
	// Once: exit after the first connection closes (gdbserver --once).
	Once bool
	// MaxClients is the number of simultaneous clients (--clients);
	// a client over the limit is refused at once with a message.
	MaxClients int
	// Policy is the default policy of every client (--policy).
	Policy string

	// PassSignals are Linux signals delivered to the program without a
	// stop, whatever the clients ask (--pass-signals; passsig.go).
	PassSignals []target.Signal

	// DisabledPackets are gdbserver's --disable-packet names: vCont, T,
	// Tthread, qC, qfThreadInfo, threads.
	DisabledPackets map[string]bool

	// Log receives the server's messages for people (stderr).
	Log io.Writer
	// Debug adds the server's own debugging output to Log; RemoteDebug
	// adds every packet.
	Debug, RemoteDebug bool
	// EventLog, when set, receives one JSON object per line per arbiter
	// event (--event-log), and per refusal (roles.go, confine.go).
	EventLog io.Writer

	// VFileAny lets vFile open any host file the server's user can;
	// otherwise only the files gdb needs and those beneath VFileRoots
	// (--vfile-any, --vfile-root; confine.go).
	VFileAny   bool
	VFileRoots []string
	// AgentOutput receives what breakpoint commands print (gdb's
	// dprintf with `set dprintf-style agent`): GNU gdbserver prints it
	// on its standard output. Nil discards it.
	AgentOutput io.Writer
}
