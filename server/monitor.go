package server

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
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
		{name: "priority", usage: "priority [N]", help: "Show or set this client's priority for hardware slots (higher wins; up to the listener's ceiling)", run: (*Server).monPriority},
		{name: "policy", usage: "policy [emulate|suspend|error]", help: "Show or set what this client's watchpoints do without a hardware slot", run: (*Server).monPolicy},
		{name: "pin", usage: "pin [on|off]", help: "Show or set pinning: pinned points are never evicted (only where the listener allows it)", run: (*Server).monPin},
		{name: "slots", usage: "slots", help: "Show the hardware slots and every hardware breakpoint and watchpoint: owners, priorities, states, hits", run: (*Server).monSlots},
		{name: "clients", usage: "clients", help: "Show the connected clients: peer, priority, state, points in hardware, emulated, suspended, role", run: (*Server).monClients},
		{name: "events", usage: "events [N]", help: "Show the last N notices (default 10)", run: (*Server).monEvents},
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
	// Each client's io.debug is set when it connects: the setting is
	// for clients connecting from now on.
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
	var b strings.Builder
	if p := s.proc; p != nil && p.count != nil {
		n := p.count.Counts()
		fmt.Fprintf(&b, "ptrace calls: %d\ndebug-register writes: %d\nwaits: %d\nstops: %d\n", n.PtraceCalls, n.DebugRegisterWrites, n.Waits, n.Stops)
	} else {
		b.WriteString("No process.\n")
	}
	fmt.Fprintf(&b, "clients: %d\nserver goroutines: %d\n", s.live(), runtime.NumGoroutine())
	c.output(b.String())
	return nil
}

// applyOwner gives the arbiter a client's new priority, policy or pinning
// and re-plans at once: other clients hear of evictions now.
func (s *Server) applyOwner(c *client) {
	if s.proc == nil {
		return
	}
	d := s.proc.dp
	if _, ok := d.arb.Owner(owner{id: c.id}); ok {
		d.arb.SetOwner(owner{id: c.id}, s.ownerConfig(c))
	}
	if _, ok := d.arb.Owner(owner{id: c.id, pair: true}); ok {
		d.arb.SetOwner(owner{id: c.id, pair: true}, arbiter.OwnerConfig{Priority: c.priority, Policy: arbiter.PolicySuspend})
	}
	s.commitDebugpoints()
	s.replanIfRunning()
}

func (s *Server) monPriority(c *client, args []string) error {
	if len(args) == 0 {
		c.output(fmt.Sprintf("Priority %d (this listener: default %d, ceiling %d).\n", c.priority, c.lc.Priority, c.lc.MaxPriority))
		return nil
	}
	if len(args) > 1 {
		return &monitorUsageError{"usage: monitor priority [N]"}
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return &monitorUsageError{fmt.Sprintf("%q is not a number; usage: monitor priority [N]", args[0])}
	}
	if n > c.lc.MaxPriority {
		return &monitorUsageError{fmt.Sprintf("priority %d is above this listener's ceiling %d", n, c.lc.MaxPriority)}
	}
	c.priority = n
	c.output(fmt.Sprintf("Priority set to %d.\n", n))
	s.applyOwner(c)
	c.flushNotices()
	return nil
}

func (s *Server) monPolicy(c *client, args []string) error {
	if len(args) == 0 {
		c.output(fmt.Sprintf("Policy %s: a watchpoint without a hardware slot is %s.\n", c.policy, policyMeaning(c.policy)))
		return nil
	}
	pol, err := arbiter.ParsePolicy(strings.Join(args, " "))
	if err != nil || len(args) != 1 {
		return &monitorUsageError{"usage: monitor policy [emulate|suspend|error]"}
	}
	c.policy = pol
	c.output(fmt.Sprintf("Policy set to %s.\n", pol))
	s.applyOwner(c)
	c.flushNotices()
	return nil
}

func policyMeaning(p arbiter.Policy) string {
	switch p {
	case arbiter.PolicyEmulate:
		return "watched in software"
	case arbiter.PolicySuspend:
		return "kept, inactive, until a slot frees"
	case arbiter.PolicyError:
		return "refused with E01, as gdbserver does"
	}
	return p.String()
}

func (s *Server) monPin(c *client, args []string) error {
	if len(args) == 0 {
		c.output(fmt.Sprintf("Pinning is %s.\n", onOff(c.pinned)))
		return nil
	}
	on, err := parseOnOff(args, "pin [on|off]")
	if err != nil {
		return err
	}
	if on && !c.lc.AllowPin {
		return &monitorUsageError{"pinning is not allowed on this listener (start gdbserverx with --allow-pin, or --listen COMM,allow-pin)"}
	}
	c.pinned = on
	c.output(fmt.Sprintf("Pinning %s.\n", onOff(on)))
	s.applyOwner(c)
	c.flushNotices()
	return nil
}

// clientName shows a client with its peer: "#2 127.0.0.1:40112".
func (s *Server) clientName(id int) string {
	if c := s.clientByID(id); c != nil {
		return fmt.Sprintf("#%d %s", id, c.peer)
	}
	return fmt.Sprintf("#%d (gone)", id)
}

func (s *Server) monSlots(c *client, args []string) error {
	if s.proc == nil {
		c.output("No process.\n")
		return nil
	}
	d := s.proc.dp
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "slot\tkind\taddress\tlen\towner\tpriority\tstate\thits\n")
	for _, cl := range s.sortedClients() {
		for info := range d.arb.Debugpoints(owner{id: cl.id}) {
			slots := s.slotsOf(info.Owner, info.Key)
			slot := "-"
			if len(slots) > 0 {
				slot = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(slots)), ","), "[]")
			}
			kind := strings.Fields(s.pointName(info.Key))[0]
			addr := fmt.Sprintf("0x%x", info.Key.Addr)
			if sym := s.proc.symbolAt(info.Key.Addr); sym != "" {
				addr += " <" + sym + ">"
			}
			state := info.State.String()
			if info.Key.Kind == hwbp.KindRead && info.State == arbiter.Installed && !d.pairInstalled(cl.id, info.Key) {
				state += " (value check)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%d\n", slot, kind, addr, info.Key.Len, s.clientName(cl.id), info.Priority, state, info.Hits)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "%d of %d slots usable.\n", d.arb.Capacity(), d.arb.NumSlots())
	c.output(b.String())
	return nil
}

func (s *Server) monClients(c *client, args []string) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\tpeer\tpriority\tstate\thardware\temulated\tsuspended\trole\n")
	for _, cl := range s.sortedClients() {
		var hw, em, su int
		if s.proc != nil {
			for info := range s.proc.dp.arb.Debugpoints(owner{id: cl.id}) {
				switch info.State {
				case arbiter.Installed:
					hw++
				case arbiter.Emulated:
					em++
				case arbiter.Suspended:
					su++
				}
			}
		}
		me := ""
		if cl == c {
			me = " (you)"
		}
		fmt.Fprintf(tw, "#%d%s\t%s\t%d\t%s\t%d\t%d\t%d\t%s\n", cl.id, me, cl.peer, cl.priority, cl.state, hw, em, su, cl.role)
	}
	tw.Flush()
	c.output(b.String())
	return nil
}

func (s *Server) monEvents(c *client, args []string) error {
	n := 10
	if len(args) == 1 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 {
			return &monitorUsageError{fmt.Sprintf("%q: want a positive number; usage: monitor events [N]", args[0])}
		}
		n = v
	} else if len(args) > 1 {
		return &monitorUsageError{"usage: monitor events [N]"}
	}
	ev := s.recent
	if len(ev) > n {
		ev = ev[len(ev)-n:]
	}
	if len(ev) == 0 {
		c.output("No notices yet.\n")
		return nil
	}
	var b strings.Builder
	for _, e := range ev {
		fmt.Fprintf(&b, "%s  to %s  %s\n", e.at.Format("15:04:05.000"), s.clientName(e.client), e.text)
	}
	c.output(b.String())
	return nil
}
