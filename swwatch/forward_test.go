package swwatch

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gdbserverx/target"
	"gdbserverx/target/linux"
)

// TestForwardsFacts: what the system says about the process (the
// library list, symbols, ids, thread names and cores, the file root,
// auxv and the executable) reads the same through the wrapper as from
// the target, while a watch protects a page of the program: the
// wrapper forwards each capability, none vanishes.
func TestForwardsFacts(t *testing.T) {
	s := start(t, "access", "w", "5")
	done := s.breakAt("done")
	g := s.sym("alone") // alone.g, at the start of its page
	s.watch(Watch{ID: 1, Addr: g, Len: 8, Kind: target.WatchWrite})
	s.runTo(done, nil)
	var w, in target.Process = s.w, s.inner
	for _, c := range []struct {
		name string
		get  func(p target.Process) (any, error)
	}{
		{"Libraries", func(p target.Process) (any, error) { return p.(target.LibraryLister).Libraries() }},
		{"ProcessInfo", func(p target.Process) (any, error) { return p.(target.ProcessInfoReader).ProcessInfo() }},
		{"FileRoot", func(p target.Process) (any, error) { return p.(target.FileRoot).FileRoot() }},
		{"ProcessDir", func(p target.Process) (any, error) { return p.(target.ProcessFiles).ProcessDir(), nil }},
		{"MappedFiles", func(p target.Process) (any, error) { return p.(target.ProcessFiles).MappedFiles() }},
		{"Auxv", func(p target.Process) (any, error) { return p.(target.AuxvReader).Auxv() }},
		{"ExecPath", func(p target.Process) (any, error) { return p.(target.ExecFile).ExecPath() }},
		{"SymbolAt", func(p target.Process) (any, error) {
			name, off, ok := p.(target.Symbolizer).SymbolAt(g + 2)
			return []any{name, off, ok}, nil
		}},
		{"ThreadName", func(p target.Process) (any, error) {
			name, ok := p.(target.ThreadInfo).ThreadName(target.Tid(p.Pid()))
			return []any{name, ok}, nil
		}},
		{"ThreadCore", func(p target.Process) (any, error) {
			core, ok := p.(target.ThreadInfo).ThreadCore(target.Tid(p.Pid()))
			return []any{core, ok}, nil
		}},
	} {
		got, err1 := c.get(w)
		want, err2 := c.get(in)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: wrapper %v, %v; target %v, %v", c.name, got, err1, want, err2)
		}
	}
	if list, _ := w.(target.LibraryLister).Libraries(); len(list.Libraries) == 0 {
		t.Error("no library listed at done: the comparison compared nothing")
	}
	if name, off, ok := w.(target.Symbolizer).SymbolAt(g + 2); name != "alone" || off != 2 || !ok {
		t.Errorf("SymbolAt(alone+2) = %q+%d, %v; want alone+2", name, off, ok)
	}
}

// noSymbols is a target without target.Symbolizer: the field hides the
// method of the embedded process.
type noSymbols struct {
	*linux.Process
	SymbolAt struct{}
}

// TestNewRequiresFacts: New refuses a target that lacks one of the
// capabilities the wrapper forwards, and names it, rather than wrap it
// into a process that would claim it.
func TestNewRequiresFacts(t *testing.T) {
	s := start(t, "access", "w", "1")
	_, err := New(noSymbols{Process: s.inner})
	if !errors.Is(err, ErrMissingCapability) || !strings.Contains(err.Error(), "Symbolizer") {
		t.Errorf("New(target without Symbolizer) = %v; want ErrMissingCapability naming Symbolizer", err)
	}
}
