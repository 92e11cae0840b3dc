package server

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"gdbserverx/arbiter"
	"gdbserverx/rsp"
)

// monitorCommand is one `monitor` command: its words, how it is used, what
// it does, and the handler. The table is the one source of `monitor help`
// and of the README's table (a test compares them).
type monitorCommand struct {
	name  string // first word(s)
	usage string
	help  string
	run   func(s *Server, c *client, args []string) error // the command
}

// monitorCommands lists the commands in the order `monitor help` prints
// them.
var monitorCommands []monitorCommand

func init() {
	monitorCommands = []monitorCommand{
		{name: "help", usage: "help", help: "Print this list", run: monHelp},
		{name: "exit", usage: "exit", help: "Quit gdbserverx (the program is killed, or detached if attached)", run: monExit},
		{name: "set debug", usage: "set debug <0|1>", help: "Enable general debugging messages", run: monSetDebug},
		{name: "set remote-debug", usage: "set remote-debug <0|1>", help: "Enable remote protocol debugging messages", run: monSetRemoteDebug},
		{name: "priority", usage: "priority [N]", help: "Show or set this client's priority for hardware slots (higher wins; up to the listener's ceiling)", run: monPriority},
		{name: "policy", usage: "policy [emulate|suspend|error]", help: "Show or set what this client's watchpoints do without a hardware slot", run: monPolicy},
		{name: "pin", usage: "pin [on|off]", help: "Show or set pinning: pinned points are never evicted (only where the listener allows it)", run: monPin},
		{name: "slots", usage: "slots", help: "Show the hardware slots and every hardware breakpoint and watchpoint: owners, priorities, states, hits", run: monSlots},
		{name: "clients", usage: "clients", help: "Show the connected clients: peer, priority, state, points in hardware, emulated, suspended, role", run: monClients},
		{name: "events", usage: "events [N]", help: "Show the last N notices (default 10)", run: monEvents},
		{name: "stats", usage: "stats", help: "Show the target's work: ptrace calls, debug-register writes, stops, range steps, signals passed without a stop", run: monStats},
	}
}

// usageError is a monitor command used wrongly: its message is shown to
// the user, and the reply is an error.
type monitorUsageError struct{ msg string }

func (e *monitorUsageError) Error() string { return e.msg }

// monitor serves qRcmd: the command's output as O packets, then OK (or an
// error reply after the message for a bad command).
func (c *client) monitor(r *rsp.MonitorCommand) {
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
	if err := cmd.run(c.s, c, args); err != nil {
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

func monHelp(s *Server, c *client, args []string) error {
	c.output(monitorHelp())
	return nil
}

func monExit(s *Server, c *client, args []string) error {
	s.log.printf("Exiting (monitor exit from client #%d)", c.id)
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

func monSetDebug(s *Server, c *client, args []string) error {
	on, err := parseOnOff(args, "set debug <0|1>")
	if err != nil {
		return err
	}
	s.log.debug = on
	c.output(fmt.Sprintf("Debug output %s.\n", onOff(on)))
	return nil
}

func monSetRemoteDebug(s *Server, c *client, args []string) error {
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

func monStats(s *Server, c *client, args []string) error {
	var b strings.Builder
	if p := c.cur(); p != nil && p.count != nil {
		n := p.count.Counts()
		fmt.Fprintf(&b, "ptrace calls: %d\ndebug-register writes: %d\nwaits: %d\nstops: %d\nrange steps: %d\n", n.PtraceCalls, n.DebugRegisterWrites, n.Waits, n.Stops, p.rangeSteps)
		fmt.Fprintf(&b, "signals passed without a stop: %d\n", n.Passed)
	} else {
		b.WriteString("No process.\n")
	}
	fmt.Fprintf(&b, "clients: %d\nserver goroutines: %d\n", s.clients.live(), runtime.NumGoroutine())
	c.output(b.String())
	return nil
}

func monPriority(s *Server, c *client, args []string) error {
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
	c.applyOwner()
	c.flushNotices()
	return nil
}

func monPolicy(s *Server, c *client, args []string) error {
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
	c.applyOwner()
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

func monPin(s *Server, c *client, args []string) error {
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
	c.applyOwner()
	c.flushNotices()
	return nil
}

// clientName shows a client with its peer: "#2 127.0.0.1:40112".
func clientName(s *Server, id int) string {
	if c := s.clients.byID(id); c != nil {
		return fmt.Sprintf("#%d %s", id, c.peer)
	}
	return fmt.Sprintf("#%d (gone)", id)
}

func monSlots(s *Server, c *client, args []string) error {
	p := c.cur()
	if p == nil {
		c.output("No process.\n")
		return nil
	}
	d := p.dp
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "slot\tkind\taddress\tlen\towner\tpriority\tstate\thits\n")
	for _, cl := range s.clients.connected() {
		for pt := range d.Points(cl.id) {
			slot := "-"
			if len(pt.Slots) > 0 {
				slot = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(pt.Slots)), ","), "[]")
			}
			kind := strings.Fields(p.pointName(pt.Request))[0]
			addr := fmt.Sprintf("0x%x", pt.Request.Addr)
			if sym := p.symbolAt(pt.Request.Addr); sym != "" {
				addr += " <" + sym + ">"
			}
			state := pt.State.String()
			if pt.ValueCheck {
				state += " (value check)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%d\n", slot, kind, addr, pt.Request.Len, clientName(s, cl.id), pt.Priority, state, pt.Hits)
		}
	}
	tw.Flush()
	usable, total := d.Capacity()
	fmt.Fprintf(&b, "%d of %d slots usable.\n", usable, total)
	c.output(b.String())
	return nil
}

func monClients(s *Server, c *client, args []string) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\tpeer\tpriority\tstate\tholds\thardware\temulated\tsuspended\trole\n")
	for _, cl := range s.clients.connected() {
		var hw, em, su int
		for _, p := range s.procs {
			for pt := range p.dp.Points(cl.id) {
				switch pt.State {
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
		holds := nonStop{s}.holds(cl)
		fmt.Fprintf(tw, "#%d%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%s\n", cl.id, me, cl.peer, cl.priority, cl.state, holds, hw, em, su, cl.role)
	}
	tw.Flush()
	c.output(b.String())
	return nil
}

func monEvents(s *Server, c *client, args []string) error {
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
		fmt.Fprintf(&b, "%s  to %s  %s\n", e.at.Format("15:04:05.000"), clientName(s, e.client), e.text)
	}
	c.output(b.String())
	return nil
}
