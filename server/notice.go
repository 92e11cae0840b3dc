package server

import (
	"fmt"
	"strings"

	"gdbserverx/arbiter"
	"gdbserverx/hwbp"
	"gdbserverx/server/internal/debugpoints"
)

// Notices tell a client, in words it sees, what happened to one of its
// debugpoints (DESIGN.md, "Notices"). Every notice is one line beginning
// with "gdbserverx: ", naming the point as the user set it (kind, 0x
// address, the symbol there when the program's symbol table names it,
// length), what happened, and why. The wording is fixed: noticeForms is
// the README's table of it (a test compares them).

// noticeForm is one documented wording.
type noticeForm struct {
	when    string // what happened, for the README
	example string
}

var noticeForms = []noticeForm{
	{"a higher-priority client took the slot", "gdbserverx: watch 0x404028 <counter> len 4: evicted from hardware by client #2 (priority 20 > 10); now emulated in software"},
	{"... under the suspend or error policy", "gdbserverx: watch 0x404028 <counter> len 4: evicted from hardware by client #2 (priority 20 > 10); now suspended until a slot frees"},
	{"the kernel refused a slot (another perf user holds it)", "gdbserverx: watch 0x404028 <counter> len 4: evicted from hardware: the kernel refused a debug-register slot; now emulated in software"},
	{"a slot freed (its holder deleted its point, lowered its priority or left)", "gdbserverx: watch 0x404028 <counter> len 4: back in hardware"},
	{"a new point is longer than the slots can hold", "gdbserverx: watch 0x404060 <big> len 4096: too long for the hardware slots (4 of 8 bytes each); emulated in software"},
	{"a new point found no free slot", "gdbserverx: watch 0x404028 <counter> len 4: no hardware slot free (held by client #2 at priority 20); emulated in software"},
	{"... under the suspend policy", "gdbserverx: watch 0x404028 <counter> len 4: no hardware slot free (held by client #2 at priority 20); suspended until a slot frees"},
	{"a new pinned point does not fit", "gdbserverx: watch 0x404028 <counter> len 4: refused: no hardware slot free and pinned points cannot be emulated"},
	{"the client's own policy or priority changed", "gdbserverx: watch 0x404028 <counter> len 4: now emulated in software (policy changed)"},
	{"more notices came than are kept for a client that holds the program", droppedNotice(3)},
}

// pointName is how a notice names a debugpoint: gdb's command for its
// kind, the address, the symbol there if any, the length.
func (p *process) pointName(req hwbp.Request) string {
	kind := map[hwbp.Kind]string{hwbp.KindExecute: "hbreak", hwbp.KindWrite: "watch", hwbp.KindRead: "rwatch", hwbp.KindAccess: "awatch"}[req.Kind]
	sym := ""
	if name := p.symbolAt(req.Addr); name != "" {
		sym = " <" + name + ">"
	}
	if req.Kind == hwbp.KindExecute {
		return fmt.Sprintf("%s 0x%x%s", kind, req.Addr, sym)
	}
	return fmt.Sprintf("%s 0x%x%s len %d", kind, req.Addr, sym, req.Len)
}

// afterState says where a point without a slot now is.
func afterState(st arbiter.State) string {
	switch st {
	case arbiter.Emulated:
		return "now emulated in software"
	case arbiter.Suspended:
		return "now suspended until a slot frees"
	}
	return "now " + st.String()
}

// noticeText words a debugpoint's change for its owner, the point named
// point (pointName), or returns "" for changes the owner need not hear
// (its own removals, a point that went straight into hardware, the
// internals of read watchpoints).
func noticeText(ch debugpoints.Change, point string) string {
	if ch.Owner.Pair {
		return ""
	}
	name := "gdbserverx: " + point + ": "
	switch ch.Change() {
	case arbiter.ChangeEvicted:
		switch ch.Cause {
		case arbiter.CauseEvicted:
			by := fmt.Sprintf("client #%d", ch.By.Owner.Client)
			if ch.By.Owner.Client == ch.Owner.Client {
				by = "its own client"
			}
			return name + fmt.Sprintf("evicted from hardware by %s (priority %d > %d); %s", by, ch.By.Priority, ch.Priority, afterState(ch.New))
		case arbiter.CauseCapacityShrank:
			return name + "evicted from hardware: the kernel refused a debug-register slot; " + afterState(ch.New)
		}
		return name + fmt.Sprintf("evicted from hardware (%v); %s", ch.Cause, afterState(ch.New))
	case arbiter.ChangeReinstalled:
		return name + "back in hardware"
	case arbiter.ChangeEmulated, arbiter.ChangeSuspended:
		if ch.Old == arbiter.Absent {
			verb := "emulated in software"
			if ch.New == arbiter.Suspended {
				verb = "suspended until a slot frees"
			}
			if ch.TooLong {
				return name + fmt.Sprintf("too long for the hardware slots (%d of %d bytes each); %s", hwbp.NumSlots, hwbp.MaxPieceLen, verb)
			}
			return name + fmt.Sprintf("no hardware slot free (%s); %s", slotHolders(ch.Holders, ch.Owner.Client), verb)
		}
		return name + afterState(ch.New) + fmt.Sprintf(" (%v)", ch.Cause)
	case arbiter.ChangeRefused:
		if ch.Pinned {
			return name + "refused: no hardware slot free and pinned points cannot be emulated"
		}
		return ""
	}
	return ""
}

// slotHolders summarises who holds the slots, for a point of client
// except that found none free: "held by client #2 at priority 20".
func slotHolders(holders []debugpoints.Holder, except int) string {
	var parts []string
	for _, h := range holders {
		if h.Client == except {
			parts = append(parts, fmt.Sprintf("this client at priority %d", h.Priority))
			continue
		}
		parts = append(parts, fmt.Sprintf("client #%d at priority %d", h.Client, h.Priority))
	}
	if len(parts) == 0 {
		return "the kernel has none left"
	}
	return "held by " + strings.Join(parts, ", ")
}
