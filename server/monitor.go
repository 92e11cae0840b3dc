package server

import (
	"fmt"
	"strconv"
	"strings"

	"gdbserverx/rsp"
)

// monitorCommand is one `monitor` command: its words, how it is used, what
// it does, and the handler. The table is the one source of `monitor help`
// and of the README's table (a test compares them).
type monitorCommand struct {
	name  string // first word(s)
	usage string
	help  string
	run   func(s *Server, c *client, args []string) error
}

// monitorCommands lists the commands in the order `monitor help` prints
// them.
var monitorCommands []monitorCommand

func init() {
	monitorCommands = []monitorCommand{
		{name: "help", usage: "help", help: "Print this list", run: (*Server).monHelp},
		{name: "exit", usage: "exit", help: "Quit gdbserverx (the program is killed, or detached if attached)", run: (*Server).monExit},
		{name: "set debug", usage: "set debug <0|1>", help: "Enable general debugging messages", run: (*Server).monSetDebug},
		{name: "set remote-debug", usage: "set remote-debug <0|1>", help: "Enable remote protocol debugging messages", run: (*Server).monSetRemoteDebug},
		{name: "stats", usage: "stats", help: "Show the target's work: ptrace calls, debug-register writes, stops", run: (*Server).monStats},
	}
}

// usageError is a monitor command used wrongly: its message is shown to
// the user, and the reply is an error.
type monitorUsageError struct{ msg string }

func (e *monitorUsageError) Error() string { return e.msg }

// monitor serves qRcmd: the command's output as O packets, then OK (or an
// error reply after the message for a bad command).
func (s *Server) monitor(c *client, r *rsp.MonitorCommand) {
	words := r.Fields()
	if len(words) == 0 {
		words = []string{"help"}
	}
	c.flushNotices()
	cmd, args := findMonitor(words)
	if cmd == nil {
		c.output(fmt.Sprintf("Unknown monitor command %q; 'monitor help' lists them.\n", strings.Join(words, " ")))
		c.replyError(rsp.CodeInvalid)
		return
	}
	if err := cmd.run(s, c, args); err != nil {
		c.output(err.Error() + "\n")
		c.replyError(rsp.CodeInvalid)
		return
	}
	c.replyOK()
}

// findMonitor matches the longest command name.
func findMonitor(words []string) (*monitorCommand, []string) {
	var best *monitorCommand
	bestLen := 0
	for i := range monitorCommands {
		m := &monitorCommands[i]
		n := strings.Fields(m.name)
		if len(n) <= len(words) && len(n) > bestLen && strings.Join(words[:len(n)], " ") == m.name {
			best, bestLen = m, len(n)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, words[bestLen:]
}

// monitorHelp is the text of `monitor help`; its first line is
// gdbserver's, which scripts look for.
func monitorHelp() string {
	var b strings.Builder
	b.WriteString("The following monitor commands are supported:\n")
	for _, m := range monitorCommands {
		fmt.Fprintf(&b, "  %s\n    %s\n", m.usage, m.help)
	}
	return b.String()
}

func (s *Server) monHelp(c *client, args []string) error {
	c.output(monitorHelp())
	return nil
}

func (s *Server) monExit(c *client, args []string) error {
	s.logf("Exiting (monitor exit from client #%d)", c.id)
	s.exit = true
	return nil
}

func parseOnOff(args []string, usage string) (bool, error) {
	if len(args) != 1 {
		return false, &monitorUsageError{"usage: monitor " + usage}
	}
	switch args[0] {
	case "1", "on":
		return true, nil
	case "0", "off":
		return false, nil
	}
	return false, &monitorUsageError{fmt.Sprintf("%q: want 0 or 1; usage: monitor %s", args[0], usage)}
}

func (s *Server) monSetDebug(c *client, args []string) error {
	on, err := parseOnOff(args, "set debug <0|1>")
	if err != nil {
		return err
	}
	s.cfg.Debug = on
	c.output(fmt.Sprintf("Debug output %s.\n", onOff(on)))
	return nil
}

func (s *Server) monSetRemoteDebug(c *client, args []string) error {
	on, err := parseOnOff(args, "set remote-debug <0|1>")
	if err != nil {
		return err
	}
	s.cfg.RemoteDebug = on
	// The reader and writer read io.debug; it changes only here, for
	// this client, and before the reply that the next packet follows.
	c.output(fmt.Sprintf("Protocol debug output %s (for clients connecting from now on).\n", onOff(on)))
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func (s *Server) monStats(c *client, args []string) error {
	p := s.proc
	if p == nil || p.count == nil {
		c.output("No process.\n")
		return nil
	}
	n := p.count.Counts()
	c.output("ptrace calls: " + strconv.FormatUint(n.PtraceCalls, 10) + "\n" +
		"debug-register writes: " + strconv.FormatUint(n.DebugRegisterWrites, 10) + "\n" +
		"waits: " + strconv.FormatUint(n.Waits, 10) + "\n" +
		"stops: " + strconv.FormatUint(n.Stops, 10) + "\n")
	return nil
}
