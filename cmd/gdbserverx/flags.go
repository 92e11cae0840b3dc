package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gdbserverx/internal/comm"
	"gdbserverx/server"
	"gdbserverx/target"
)

// options is the parsed command line.
type options struct {
	attach, multi, once    bool
	help, version          bool
	disableRandomization   bool
	startupWithShell       bool
	debug, remoteDebug     bool
	disablePackets         map[string]bool
	clients                int
	priority, maxPriority  int
	allowPin               bool
	policy                 string
	eventLog               string
	cpuProfile             string
	passSignals            []target.Signal
	listens                []listenSpec
	role                   server.Role
	socketMode             os.FileMode
	allowUIDs              []int
	vfileRoots             []string
	vfileAny               bool
	comm                   comm.Spec
	program                string
	args                   []string // argv, the program included
	pid                    int
	sawPriority, sawMaxPri bool
}

// listenSpec is one listener: the COMM argument, or an extra --listen.
type listenSpec struct {
	comm        comm.Spec
	priority    int
	maxPriority int
	allowPin    bool
	role        server.Role
}

const usageText = `Usage:	gdbserverx [OPTIONS] COMM PROG [ARGS ...]
	gdbserverx [OPTIONS] --attach COMM PID
	gdbserverx [OPTIONS] --multi COMM

COMM may be HOST:PORT or :PORT to listen for TCP connections (an empty
HOST means 127.0.0.1; use 0.0.0.0:PORT to listen on every interface),
unix:PATH for a unix socket, a tty device (/dev/...) for serial
debugging, or '-' or 'stdio' to use stdin/stdout of gdbserverx.
PROG is the executable program. ARGS are arguments passed to it.
PID is the process ID to attach to, when --attach is specified.

Operating modes:

  --attach              Attach to running process PID.
  --multi               Start server without a specific program, and
                        only quit when explicitly commanded.
  --once                Exit after the first connection has closed.
  --help                Print this message and then exit.
  --version             Display version information and exit.

Other options:

  --disable-randomization
                        Run PROG with address space randomization disabled
                        (default).
  --no-disable-randomization
                        Don't disable address space randomization.
  --startup-with-shell  Start PROG using a shell (default).
  --no-startup-with-shell
                        Exec PROG directly instead of using a shell.

Several debuggers at once (see README, "Several clients"):

  --clients N           Serve up to N clients at once (default 8); a
                        client over the limit is refused at once.
  --priority N          Default priority of this COMM's clients (default 0).
  --max-priority N      Highest priority a client may ask for with
                        'monitor priority N' (default 100).
  --allow-pin           Let clients use 'monitor pin on'.
  --policy P            What a watchpoint without a hardware slot does:
                        emulate (default), suspend, or error.
  --listen COMM[,priority=N][,max-priority=M][,allow-pin][,role=R]
                        Also listen on COMM, with its own priorities;
                        its clients have role R (default debugger).
  --event-log FILE      Write one JSON line per debug-register event and
                        per refusal.
  --pass-signals LIST   Deliver these signals to PROG without stopping it
                        or telling any client (SIGURG,SIGALRM or numbers):
                        QPassSignals set by the server's user. Use
                        SIGURG for Go programs under Delve (README, "Delve").

Security (see README, "Security"):

  --role R              What COMM's clients may do: owner (default:
                        everything), debugger (no kill, run, attach or
                        monitor exit), observer (read and watch only).
  --socket-mode MODE    Permissions of unix socket files (default 0600).
  --allow-uid UID[,UID...]
                        Users whose processes may connect through a unix
                        socket (default: the server's own user).
  --vfile-root DIR      Let clients read host files beneath DIR too (by
                        default: the program, its libraries, /proc/PID
                        and /usr/lib/debug).
  --vfile-any           Let clients open any host file the server can.

Debug options:

  --debug               Enable general debugging output.
  --remote-debug        Enable remote protocol debugging output.
  --disable-packet=OPT1[,OPT2,...]
                        Disable support for RSP packets or features.
                          Options:
                            vCont, T, Tthread, qC, qfThreadInfo and
                            threads (disable all threading packets).
  --cpuprofile FILE     Write a Go CPU profile of the server to FILE.

Report bugs at the project's issue tracker.
`

// usageError is a command-line mistake: print it and the usage, exit 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// boolSetter is a flag that sets a shared bool to a fixed value, so that
// --startup-with-shell and --no-startup-with-shell write one variable.
type boolSetter struct {
	p *bool
	v bool
}

func (b boolSetter) String() string   { return "" }
func (b boolSetter) IsBoolFlag() bool { return true }
func (b boolSetter) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if v {
		*b.p = b.v
	} else {
		*b.p = !b.v
	}
	return nil
}

// repeated collects every value of a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

var validPackets = map[string]bool{"vCont": true, "T": true, "Tthread": true, "qC": true, "qfThreadInfo": true, "threads": true}

// parseArgs reads the command line (without the program name).
func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{disableRandomization: true, startupWithShell: true, clients: server.DefaultMaxClients, maxPriority: 100, policy: "emulate", disablePackets: map[string]bool{}}
	fs := flag.NewFlagSet("gdbserverx", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.attach, "attach", false, "")
	fs.BoolVar(&o.multi, "multi", false, "")
	fs.BoolVar(&o.once, "once", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.Var(boolSetter{&o.disableRandomization, true}, "disable-randomization", "")
	fs.Var(boolSetter{&o.disableRandomization, false}, "no-disable-randomization", "")
	fs.Var(boolSetter{&o.startupWithShell, true}, "startup-with-shell", "")
	fs.Var(boolSetter{&o.startupWithShell, false}, "no-startup-with-shell", "")
	fs.BoolVar(&o.debug, "debug", false, "")
	fs.BoolVar(&o.remoteDebug, "remote-debug", false, "")
	var ignored bool
	var ignoredStr string
	fs.BoolVar(&ignored, "event-loop-debug", false, "")
	fs.StringVar(&ignoredStr, "debug-format", "", "")
	var disable repeated
	fs.Var(&disable, "disable-packet", "")
	fs.IntVar(&o.clients, "clients", server.DefaultMaxClients, "")
	fs.Func("priority", "", func(s string) (err error) { o.sawPriority = true; o.priority, err = parseInt(s); return })
	fs.Func("max-priority", "", func(s string) (err error) { o.sawMaxPri = true; o.maxPriority, err = parseInt(s); return })
	fs.BoolVar(&o.allowPin, "allow-pin", false, "")
	fs.StringVar(&o.policy, "policy", "emulate", "")
	fs.StringVar(&o.eventLog, "event-log", "", "")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "")
	var listens repeated
	fs.Var(&listens, "listen", "")
	var wrapper string
	fs.StringVar(&wrapper, "wrapper", "", "")
	fs.Func("role", "", func(s string) (err error) { o.role, err = server.ParseRole(s); return })
	fs.Func("socket-mode", "", func(s string) error {
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o777 || m == 0 {
			return fmt.Errorf("%q is not a file mode from 1 to 0777, in octal", s)
		}
		o.socketMode = os.FileMode(m)
		return nil
	})
	fs.Func("allow-uid", "", func(s string) error {
		for _, u := range strings.Split(s, ",") {
			n, err := strconv.ParseUint(u, 10, 32)
			if err != nil {
				return fmt.Errorf("%q is not a user id", u)
			}
			o.allowUIDs = append(o.allowUIDs, int(n))
		}
		return nil
	})
	fs.Func("vfile-root", "", func(s string) error {
		dir, err := vfileRoot(s)
		o.vfileRoots = append(o.vfileRoots, dir)
		return err
	})
	fs.BoolVar(&o.vfileAny, "vfile-any", false, "")
	fs.Func("pass-signals", "", func(v string) (err error) {
		sigs, err := server.ParseSignals(v)
		o.passSignals = append(o.passSignals, sigs...)
		return err
	})

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			o.help = true
			return o, nil
		}
		return nil, &usageError{err.Error()}
	}
	if o.help || o.version {
		return o, nil
	}
	if wrapper != "" {
		return nil, &usageError{"--wrapper is not supported"}
	}
	for _, list := range disable {
		for _, p := range strings.Split(list, ",") {
			if !validPackets[p] {
				return nil, &usageError{fmt.Sprintf("--disable-packet: unknown packet %q (known: vCont, T, Tthread, qC, qfThreadInfo, threads)", p)}
			}
			o.disablePackets[p] = true
		}
	}
	if o.disablePackets["threads"] {
		for _, p := range []string{"vCont", "Tthread", "qC", "qfThreadInfo"} {
			o.disablePackets[p] = true
		}
	}
	switch o.policy {
	case "emulate", "suspend", "error":
	default:
		return nil, &usageError{fmt.Sprintf("--policy %q: want emulate, suspend or error", o.policy)}
	}
	if o.clients < 1 {
		return nil, &usageError{fmt.Sprintf("--clients %d: want at least 1", o.clients)}
	}
	if o.priority > o.maxPriority {
		return nil, &usageError{fmt.Sprintf("--priority %d is above --max-priority %d", o.priority, o.maxPriority)}
	}
	if o.attach && o.multi {
		return nil, &usageError{"--attach and --multi cannot be used together"}
	}

	rest := fs.Args()
	if len(rest) > 0 && rest[0] == "gdbserver" {
		var err error
		if rest, err = lldbServerArgs(rest[1:], o); err != nil {
			return nil, err
		}
	}
	if len(rest) == 0 {
		return nil, &usageError{"missing COMM"}
	}
	spec, err := comm.Parse(rest[0])
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	spec.Mode = o.socketMode
	o.comm = spec
	o.listens = append(o.listens, listenSpec{comm: spec, priority: o.priority, maxPriority: o.maxPriority, allowPin: o.allowPin, role: o.role})
	for _, l := range listens {
		ls, err := parseListen(l, o)
		if err != nil {
			return nil, &usageError{err.Error()}
		}
		o.listens = append(o.listens, ls)
	}
	rest = rest[1:]
	switch {
	case o.attach:
		if len(rest) != 1 {
			return nil, &usageError{"--attach needs exactly one PID after COMM"}
		}
		pid, err := strconv.Atoi(rest[0])
		if err != nil || pid <= 0 {
			return nil, &usageError{fmt.Sprintf("--attach: %q is not a process id", rest[0])}
		}
		o.pid = pid
	case o.multi:
		if len(rest) > 0 {
			o.program, o.args = rest[0], rest
		}
	default:
		if len(rest) == 0 {
			return nil, &usageError{"missing PROG (or use --attach or --multi)"}
		}
		o.program, o.args = rest[0], rest
	}
	return o, nil
}

// lldbServerArgs reads lldb-server's command line after its "gdbserver"
// (lldb-server gdbserver [--attach PID] [HOST]:PORT [-- PROG ARGS...]),
// as Delve's gdbserial backend runs it (`dlv --backend=lldb`), and
// returns it in gdbserverx's form: COMM, then PROG ARGS or PID. Like
// lldb-server, the server then serves one connection (--once). So a
// script named lldb-server that runs `gdbserverx [OPTIONS] "$@"`, put
// first in PATH, makes Delve debug through gdbserverx (README, "Delve").
func lldbServerArgs(args []string, o *options) ([]string, error) {
	o.once = true
	var where, pid string
	var prog []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			prog, i = args[i+1:], len(args)
		case a == "--attach":
			if i+1 == len(args) {
				return nil, &usageError{"gdbserver: --attach needs a PID"}
			}
			i++
			pid = args[i]
		case strings.HasPrefix(a, "--attach="):
			pid = strings.TrimPrefix(a, "--attach=")
		case strings.HasPrefix(a, "-"):
			return nil, &usageError{fmt.Sprintf("gdbserver: lldb-server's option %q is not supported (only --attach PID)", a)}
		case where == "":
			where = a
		default:
			return nil, &usageError{fmt.Sprintf("gdbserver: unexpected %q (the program goes after --)", a)}
		}
	}
	if where == "" {
		return nil, nil // "missing COMM"
	}
	if pid != "" {
		if len(prog) > 0 {
			return nil, &usageError{"gdbserver: --attach and a program cannot be used together"}
		}
		o.attach = true
		return []string{where, pid}, nil
	}
	return append([]string{where}, prog...), nil
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return n, nil
}

// parseListen reads COMM[,priority=N][,max-priority=M][,allow-pin].
func parseListen(s string, o *options) (listenSpec, error) {
	parts := strings.Split(s, ",")
	spec, err := comm.Parse(parts[0])
	if err != nil {
		return listenSpec{}, fmt.Errorf("--listen %s: %v", s, err)
	}
	spec.Mode = o.socketMode
	// Another listener is for other people and tools: they debug, but
	// do not end the program or the server unless role=owner says so.
	l := listenSpec{comm: spec, priority: o.priority, maxPriority: o.maxPriority, role: server.RoleDebugger}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "priority":
			if l.priority, err = parseInt(v); err != nil {
				return l, fmt.Errorf("--listen %s: priority: %v", s, err)
			}
		case "max-priority":
			if l.maxPriority, err = parseInt(v); err != nil {
				return l, fmt.Errorf("--listen %s: max-priority: %v", s, err)
			}
		case "allow-pin":
			l.allowPin = true
		case "role":
			if l.role, err = server.ParseRole(v); err != nil {
				return l, fmt.Errorf("--listen %s: %v", s, err)
			}
		default:
			return l, fmt.Errorf("--listen %s: unknown setting %q (want priority=N, max-priority=M, allow-pin or role=R)", s, p)
		}
	}
	if l.priority > l.maxPriority {
		return l, fmt.Errorf("--listen %s: priority %d is above max-priority %d", s, l.priority, l.maxPriority)
	}
	return l, nil
}

// vfileRoot makes --vfile-root DIR absolute and clean, as the server
// compares paths with it, and checks that it is a directory.
func vfileRoot(s string) (string, error) {
	dir, err := filepath.Abs(s)
	if err != nil {
		return s, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return dir, err
	}
	if !st.IsDir() {
		return dir, fmt.Errorf("%s is not a directory", dir)
	}
	return dir, nil
}
