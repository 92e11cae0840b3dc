package procfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A status file as Linux 6.x writes it (abridged).
const sample = `Name:	loop
Umask:	0022
State:	t (tracing stop)
Tgid:	4242
Ngid:	0
Pid:	4243
PPid:	4200
TracerPid:	4200
Uid:	1000	1001	1002	1003
Gid:	100	101	102	103
SigBlk:	0000000000010000
SigCgt:	0000000180004a02
x86_Thread_features:	shstk wrss
x86_Thread_features_locked:	shstk
`

func TestFields(t *testing.T) {
	s := ParseStatus(sample)
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"State", "t (tracing stop)", true},
		{"Name", "loop", true},
		{"x86_Thread_features", "shstk wrss", true},
		{"x86_Thread_features_locked", "shstk", true},
		{"Pid", "4243", true},      // not PPid nor TracerPid
		{"Tracer", "", false},      // a prefix of a name is not the name
		{"NoSuchField", "", false}, // absent
	} {
		if got, ok := s.Field(tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("Field(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	for name, want := range map[string]int{"Tgid": 4242, "PPid": 4200, "TracerPid": 4200, "Uid": 1000, "Gid": 100} {
		if got, ok := s.Int(name); got != want || !ok {
			t.Errorf("Int(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if _, ok := s.Int("State"); ok {
		t.Error("Int(State) is a number")
	}
	if m, ok := s.Mask("SigCgt"); m != 0x180004a02 || !ok {
		t.Errorf("Mask(SigCgt) = %#x, %v", m, ok)
	}
	if m, ok := s.Mask("SigBlk"); m != 1<<16 || !ok {
		t.Errorf("Mask(SigBlk) = %#x, %v", m, ok)
	}
	if w := s.Words("Uid"); !slices.Equal(w, []string{"1000", "1001", "1002", "1003"}) {
		t.Errorf("Words(Uid) = %q", w)
	}
	if w := s.Words("Absent"); w != nil {
		t.Errorf("Words(Absent) = %q", w)
	}
}

// TestReal reads the status files of this process and of a child the
// kernel describes: the fields the project reads are there and mean what
// the parser says.
func TestReal(t *testing.T) {
	self, err := ReadSelfStatus()
	if err != nil {
		t.Fatal(err)
	}
	if tg, ok := self.Int("Tgid"); !ok || tg != os.Getpid() {
		t.Errorf("self Tgid %d, %v; want %d", tg, ok, os.Getpid())
	}
	byPid, err := ReadStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if pp, ok := byPid.Int("PPid"); !ok || pp != os.Getppid() {
		t.Errorf("PPid %d, %v; want %d", pp, ok, os.Getppid())
	}
	task, err := ReadTaskStatus(os.Getpid(), unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	if pid, ok := task.Int("Pid"); !ok || pid != unix.Gettid() {
		t.Errorf("task Pid %d, %v; want the tid %d", pid, ok, unix.Gettid())
	}
	if _, ok := task.Mask("SigBlk"); !ok {
		t.Error("no SigBlk")
	}

	// A stopped child: State T.
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := unix.Kill(cmd.Process.Pid, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(cmd.Process.Pid, &ws, unix.WUNTRACED, nil); err != nil || !ws.Stopped() {
		t.Fatalf("wait for the stop: %v, status %#x", err, ws)
	}
	// wait4 reported the stop: the kernel has set the state.
	st, err := ReadStatus(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if state, _ := st.Field("State"); len(state) == 0 || state[0] != 'T' {
		t.Errorf("stopped child's State %q", state)
	}
	if _, err := ReadStatus(1 << 30); err == nil {
		t.Error("status of a pid that cannot exist read without error")
	}
}

// TestStat parses stat lines whose name holds what would fool a split on
// spaces: spaces and parentheses.
func TestStat(t *testing.T) {
	for _, tc := range []struct {
		text, name, state string
		cpu               int64
		ok                bool
	}{
		{"4243 (loop) t 4200 4242 4200 0 -1 4194560 105 0 0 0 0 0 0 0 20 0 1 0 123 2207744 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
			"loop", "t", 1, true},
		{"7 (a b) (c)) R" + strings.Repeat(" 0", StatProcessor-StatState-1) + " 3 0 0",
			"a b) (c)", "R", 3, true},
		// Cut short before the processor field (a kernel older than 2.2.8).
		{"7 (x) S 1 7", "x", "S", 0, false},
	} {
		s, err := ParseStat(tc.text)
		if err != nil {
			t.Fatalf("ParseStat(%q): %v", tc.text, err)
		}
		if s.Name() != tc.name {
			t.Errorf("Name() = %q, want %q", s.Name(), tc.name)
		}
		if st, _ := s.Field(StatState); st != tc.state {
			t.Errorf("%q: state %q, want %q", tc.text, st, tc.state)
		}
		if cpu, ok := s.Int(StatProcessor); cpu != tc.cpu || ok != tc.ok {
			t.Errorf("%q: processor %d, %v; want %d, %v", tc.text, cpu, ok, tc.cpu, tc.ok)
		}
	}
	for _, bad := range []string{"", "7 x R", "7 ) (x R"} {
		if _, err := ParseStat(bad); !errors.Is(err, ErrStatSyntax) {
			t.Errorf("ParseStat(%q) = %v, want ErrStatSyntax", bad, err)
		}
	}
}

// TestTaskStat reads this thread's stat file: the name is this program's,
// the state running, and the processor the CPU it runs on now (the thread
// is locked to its CPU for the read, so the kernel's answer cannot be a
// CPU it left).
func TestTaskStat(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &set)
	cpu := -1
	for i := 0; i < 1024 && cpu < 0; i++ {
		if set.IsSet(i) {
			cpu = i
		}
	}
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	st, err := ReadTaskStat(os.Getpid(), unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := st.Int(StatProcessor); !ok || got != int64(cpu) {
		t.Errorf("processor %d, %v; want %d", got, ok, cpu)
	}
	if state, _ := st.Field(StatState); state != "R" {
		t.Errorf("state %q, want R (this thread runs)", state)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/comm", unix.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(string(comm), "\n"); st.Name() != want {
		t.Errorf("name %q, want %q (comm)", st.Name(), want)
	}
	if _, err := ReadTaskStat(os.Getpid(), 1<<30); !errors.Is(err, unix.ENOENT) {
		t.Errorf("stat of a thread that cannot exist: %v, want ENOENT", err)
	}
}

func TestParseMapsLine(t *testing.T) {
	for line, want := range map[string]Mapping{
		"555555554000-555555555000 r--p 00000000 fe:01 1234   /tmp/my prog": {Start: 0x555555554000, End: 0x555555555000, Perms: "r--p", Path: "/tmp/my prog"},
		"7ffff7fc8000-7ffff7fca000 r-xp 00000000 00:00 0      [vdso]":       {Start: 0x7ffff7fc8000, End: 0x7ffff7fca000, Perms: "r-xp", Path: "[vdso]"},
		"7ffff7fbe000-7ffff7fbf000 rw-p 00000000 00:00 0":                   {Start: 0x7ffff7fbe000, End: 0x7ffff7fbf000, Perms: "rw-p"},
	} {
		got, ok := ParseMapsLine(line)
		if !ok || got != want {
			t.Errorf("ParseMapsLine(%q) = %+v, %v; want %+v", line, got, ok, want)
		}
	}
	for _, bad := range []string{"nonsense", "2000-1000 r--p 0 0:0 0", "1000-2000 r-p 0 0:0 0", "1000-2000 r--p 0 0:0"} {
		if m, ok := ParseMapsLine(bad); ok {
			t.Errorf("ParseMapsLine(%q) = %+v, want refused", bad, m)
		}
	}
}

// TestRegionAt: this process's maps: a global's page is mapped, read and
// write; the page at 0 is a gap up to the first mapping; past the last
// mapping the gap runs to the end of the address space.
func TestRegionAt(t *testing.T) {
	addr := uint64(uintptr(unsafe.Pointer(&regionProbe)))
	m, ok, err := RegionAt(os.Getpid(), addr)
	if err != nil || !ok || addr < m.Start || addr >= m.End || m.Perms[:2] != "rw" {
		t.Errorf("region of a global at %#x: %+v, %v, %v", addr, m, ok, err)
	}
	m, ok, err = RegionAt(os.Getpid(), 0)
	if err != nil || ok || m.Start != 0 || m.End == 0 {
		t.Errorf("region at 0: %+v, %v, %v", m, ok, err)
	}
	m, ok, err = RegionAt(os.Getpid(), ^uint64(0)-1)
	if err != nil || ok || m.End != 0 {
		t.Errorf("region at the top: %+v, %v, %v, want a gap to 2^64", m, ok, err)
	}
	if _, _, err := RegionAt(1<<30, 0); err == nil {
		t.Errorf("RegionAt of a process that does not exist: no error")
	}
}

var regionProbe = 1
