package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"gdbserverx/internal/comm"
	"gdbserverx/server"
	"gdbserverx/target"
)

func TestParseArgs(t *testing.T) {
	tcp := func(a string) comm.Spec { return comm.Spec{Kind: comm.TCP, Addr: a} }
	for _, tc := range []struct {
		args  string
		check func(*options) bool
		err   string
	}{
		{args: ":2345 /bin/true a b", check: func(o *options) bool {
			return o.comm == tcp("127.0.0.1:2345") && o.program == "/bin/true" && reflect.DeepEqual(o.args, []string{"/bin/true", "a", "b"}) && o.startupWithShell && o.disableRandomization
		}},
		{args: "--once --no-startup-with-shell --no-disable-randomization :1 prog", check: func(o *options) bool {
			return o.once && !o.startupWithShell && !o.disableRandomization
		}},
		{args: "--attach :1 1234", check: func(o *options) bool { return o.attach && o.pid == 1234 }},
		{args: "--multi - ", check: func(o *options) bool { return o.multi && o.comm.Kind == comm.Stdio && o.program == "" }},
		{args: "--disable-packet=threads :1 p", check: func(o *options) bool {
			return o.disablePackets["vCont"] && o.disablePackets["qC"] && o.disablePackets["threads"]
		}},
		{args: "--priority 10 --listen :2,priority=50,max-priority=60,allow-pin :1 p", check: func(o *options) bool {
			return len(o.listens) == 2 && o.listens[0].priority == 10 && o.listens[0].maxPriority == 100 &&
				o.listens[1] == listenSpec{comm: tcp("127.0.0.1:2"), priority: 50, maxPriority: 60, allowPin: true, role: server.RoleDebugger}
		}},
		{args: ":1 p", check: func(o *options) bool {
			return o.listens[0].role == server.RoleOwner && o.vfileRoots == nil && !o.vfileAny
		}},
		{args: "--role observer --socket-mode 660 --allow-uid 5,7 --allow-uid 9 --vfile-root / --vfile-any --listen unix:/s,role=owner :1 p", check: func(o *options) bool {
			return o.listens[0].role == server.RoleObserver && o.listens[1].role == server.RoleOwner && o.socketMode == 0o660 &&
				o.listens[1].comm.Mode == 0o660 && reflect.DeepEqual(o.allowUIDs, []int{5, 7, 9}) && reflect.DeepEqual(o.vfileRoots, []string{"/"}) && o.vfileAny
		}},
		{args: "--help", check: func(o *options) bool { return o.help }},
		{args: "--version", check: func(o *options) bool { return o.version }},
		{args: "", err: "missing COMM"},
		{args: ":1", err: "missing PROG"},
		{args: "--attach :1", err: "exactly one PID"},
		{args: "--attach :1 abc", err: "not a process id"},
		{args: "--attach --multi :1 1", err: "cannot be used together"},
		{args: "--bogus :1 p", err: "flag provided but not defined: -bogus"},
		{args: "--disable-packet=vFoo :1 p", err: `unknown packet "vFoo"`},
		{args: "--policy loud :1 p", err: `--policy "loud"`},
		{args: "--clients 0 :1 p", err: "want at least 1"},
		{args: "--priority 200 :1 p", err: "above --max-priority"},
		{args: "--priority x :1 p", err: `"x" is not a number`},
		{args: "--listen :2,color=red :1 p", err: `unknown setting "color=red"`},
		{args: "--role boss :1 p", err: `role "boss": want owner, debugger or observer`},
		{args: "--listen :2,role=root :1 p", err: `role "root"`},
		{args: "--socket-mode 999 :1 p", err: "not a file mode"},
		{args: "--allow-uid me :1 p", err: `"me" is not a user id`},
		{args: "--vfile-root /nonexistent/dir :1 p", err: "no such file or directory"},
		{args: "--vfile-root /etc/passwd :1 p", err: "not a directory"},
		{args: "prog", err: "is not [HOST]:PORT"},
		{args: "--pass-signals SIGURG,alrm --pass-signals 10 :1 p", check: func(o *options) bool {
			return reflect.DeepEqual(o.passSignals, []target.Signal{14, 23, 10})
		}},
		{args: "--pass-signals SIGFOO :1 p", err: `unknown signal "SIGFOO"`},
		{args: "--pass-signals SIGTRAP :1 p", err: "cannot be passed"},
		{args: "--pass-signals 99 :1 p", err: "want 1 to 64"},
		// lldb-server's command line, as Delve's gdbserial backend runs it.
		{args: "gdbserver :1234 -- /bin/true a", check: func(o *options) bool {
			return o.once && o.comm == tcp("127.0.0.1:1234") && o.program == "/bin/true" && reflect.DeepEqual(o.args, []string{"/bin/true", "a"})
		}},
		{args: "--debug gdbserver --attach 42 127.0.0.1:7", check: func(o *options) bool {
			return o.once && o.debug && o.attach && o.pid == 42 && o.comm == tcp("127.0.0.1:7")
		}},
		{args: "gdbserver --attach=42 :7", check: func(o *options) bool { return o.attach && o.pid == 42 }},
		{args: "gdbserver", err: "missing COMM"},
		{args: "gdbserver :1", err: "missing PROG"},
		{args: "gdbserver :1 prog", err: "the program goes after --"},
		{args: "gdbserver --native-regs :1 -- prog", err: `option "--native-regs" is not supported`},
		{args: "gdbserver --attach 1 :1 -- prog", err: "cannot be used together"},
		{args: "gdbserver :1 --attach", err: "--attach needs a PID"},
	} {
		o, err := parseArgs(strings.Fields(tc.args), io.Discard)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !tc.check(o) {
			t.Errorf("%q: unexpected options %+v", tc.args, o)
		}
	}
}

// TestUsageLimits: the usage text gives the limits the server has.
func TestUsageLimits(t *testing.T) {
	if want := fmt.Sprintf("Serve up to N clients at once (default %d)", server.DefaultMaxClients); !strings.Contains(usageText, want) {
		t.Errorf("usage lacks %q", want)
	}
}
