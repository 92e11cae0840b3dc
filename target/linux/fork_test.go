package linux

import (
	"testing"

	"gdbserverx/target"
)

// TestFollowForks: with forks followed, testdata/forkexec's fork and
// vfork children are processes of the tracer: the fork child holds the
// parent's breakpoint and stops at it; the vfork child execs /bin/true and
// exits, and then the parent reports vfork-done; each child's end is its
// own event.
func TestFollowForks(t *testing.T) {
	p, bin := launch(t, "forkexec")
	tick := symbol(t, bin, "tick")
	if err := p.FollowForks(true); err != nil {
		t.Fatal(err)
	}
	p.InsertBreakpoint(tick)
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopFork || st.Child == nil || st.Tid != target.Tid(p.Pid()) {
		t.Fatalf("%+v, want the parent's fork with its child", st)
	}
	child := st.Child.(*Process)
	t.Cleanup(func() { cleanup(t, child) })
	if child.Pid() == p.Pid() {
		t.Fatalf("child pid %d", child.Pid())
	}
	cont(t, child)
	cst := onlyStop(t, next(t, child))
	if cst.Reason != target.StopBreakpoint || cst.PC != tick || cst.Tid != target.Tid(child.Pid()) {
		t.Fatalf("child: %+v, want its breakpoint at tick (inherited)", cst)
	}
	child.RemoveBreakpoint(tick)
	cont(t, child)
	if ev := next(t, child); ev.Kind != target.EventExited || ev.ExitCode != 0 {
		t.Fatalf("child: %+v, want exit 0", ev)
	}
	// The parent: waitpid's SIGCHLD, then the vfork.
	cont(t, p)
	st = onlyStop(t, nextReal(t, p))
	if st.Reason != target.StopVFork || st.Child == nil {
		t.Fatalf("%+v, want the vfork", st)
	}
	vchild := st.Child.(*Process)
	t.Cleanup(func() { cleanup(t, vchild) })
	cont(t, vchild)
	if cst := onlyStop(t, next(t, vchild)); cst.Reason != target.StopExec {
		t.Fatalf("vfork child: %+v, want its exec", cst)
	}
	cont(t, vchild)
	if ev := next(t, vchild); ev.Kind != target.EventExited || ev.ExitCode != 0 {
		t.Fatalf("vfork child: %+v, want exit 0", ev)
	}
	cont(t, p)
	if st := onlyStop(t, next(t, p)); st.Reason != target.StopVForkDone {
		t.Fatalf("%+v, want vfork-done", st)
	}
	cont(t, p)
	st = onlyStop(t, nextReal(t, p))
	if st.Reason != target.StopBreakpoint || st.PC != tick {
		t.Fatalf("%+v, want the parent at tick (its int3 still there)", st)
	}
	p.RemoveBreakpoint(tick)
	cont(t, p)
	if st := onlyStop(t, nextReal(t, p)); st.Reason != target.StopExec {
		t.Fatalf("%+v, want exec", st)
	}
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 7 {
		t.Fatalf("%+v, want exit 7", ev)
	}
}
