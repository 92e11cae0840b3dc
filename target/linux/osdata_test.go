package linux

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// osRows reads a table and returns its rows as maps of column to value,
// checking that every row has the table's columns, in order.
func osRows(t *testing.T, typ string, columns ...string) []map[string]string {
	t.Helper()
	items, err := OSInfo{}.OSData(typ)
	if err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	var out []map[string]string
	for _, it := range items {
		row := map[string]string{}
		var names []string
		for _, c := range it {
			row[c.Name] = c.Value
			names = append(names, c.Name)
		}
		if columns != nil && strings.Join(names, "|") != strings.Join(columns, "|") {
			t.Fatalf("%s: columns %q, want %q", typ, names, columns)
		}
		out = append(out, row)
	}
	return out
}

// rowWith finds the rows whose columns have the given values.
func rowsWith(rows []map[string]string, kv ...string) []map[string]string {
	var out []map[string]string
next:
	for _, r := range rows {
		for i := 0; i+1 < len(kv); i += 2 {
			if r[kv[i]] != kv[i+1] {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// TestOSData: the tables of `info os` show what this test process is
// and holds, in the columns GNU gdbserver gives them
// (gdb/nat/linux-osdata.c): its pid, command line and threads, a file
// and sockets it opened, System V IPC objects it made, its process
// group; the CPUs /proc/cpuinfo lists; and an unknown table is
// ErrNoOSData.
func TestOSData(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	var types []string
	for _, ty := range (OSInfo{}).OSDataTypes() {
		types = append(types, ty.Type)
	}
	if got := strings.Join(types, " "); got != "cpus files modules msg processes procgroups semaphores shm sockets threads" {
		t.Errorf("types: %s", got)
	}
	if _, err := (OSInfo{}).OSData("nosuch"); !errors.Is(err, target.ErrNoOSData) {
		t.Errorf("nosuch: %v", err)
	}

	procs := rowsWith(osRows(t, "processes", "pid", "user", "command", "cores"), "pid", pid)
	cmdline, _ := os.ReadFile("/proc/self/cmdline")
	wantCmd := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
	if len(procs) != 1 || procs[0]["command"] != wantCmd || procs[0]["cores"] == "" || procs[0]["user"] == "" {
		t.Errorf("processes: %v, want pid %s with command %q", procs, pid, wantCmd)
	}

	threads := rowsWith(osRows(t, "threads", "pid", "command", "tid", "core"), "pid", pid)
	tasks, _ := os.ReadDir("/proc/self/task")
	if len(threads) < 1 || len(threads) > len(tasks)+8 { // the Go runtime may start threads meanwhile
		t.Errorf("threads of %s: %d rows, /proc/self/task has %d", pid, len(threads), len(tasks))
	}
	if main := rowsWith(threads, "tid", pid); len(main) != 1 {
		t.Errorf("threads: no main thread %s in %v", pid, threads)
	}

	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := strconv.Itoa(int(f.Fd()))
	if files := rowsWith(osRows(t, "files", "pid", "command", "file descriptor", "name"), "pid", pid, "file descriptor", fd); len(files) != 1 || files[0]["name"] != "/dev/null" {
		t.Errorf("files: fd %s: %v", fd, files)
	}

	testSockets(t)

	pgid, _ := unix.Getpgid(os.Getpid())
	groups := osRows(t, "procgroups", "pgid", "leader command", "pid", "command line")
	if mine := rowsWith(groups, "pid", pid); len(mine) != 1 || mine[0]["pgid"] != strconv.Itoa(pgid) {
		t.Errorf("procgroups: pid %s: %v, want pgid %d", pid, mine, pgid)
	}

	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	n := 0
	for _, line := range strings.Split(string(cpuinfo), "\n") {
		if strings.HasPrefix(line, "processor") {
			n++
		}
	}
	if cpus := osRows(t, "cpus"); len(cpus) != n || n == 0 || cpus[0]["processor"] != "0" || cpus[0]["flags"] == "" {
		t.Errorf("cpus: %d rows, /proc/cpuinfo has %d processors; the first: %v", len(cpus), n, cpus)
	}

	testSysVIPC(t)
}

// testSockets: a TCP socket listening on 127.0.0.1 and a UDP socket,
// and over IPv6 when the host has it.
func testSockets(t *testing.T) {
	columns := []string{"local address", "local port", "remote address", "remote port", "state", "user", "family", "protocol"}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	want := [][]string{
		{"local address", "127.0.0.1", "local port", strconv.Itoa(l.Addr().(*net.TCPAddr).Port), "state", "LISTEN", "family", "INET", "protocol", "STREAM"},
		{"local address", "127.0.0.1", "local port", strconv.Itoa(u.LocalAddr().(*net.UDPAddr).Port), "family", "INET", "protocol", "DGRAM"},
	}
	if l6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		defer l6.Close()
		want = append(want, []string{"local address", "::1", "local port", strconv.Itoa(l6.Addr().(*net.TCPAddr).Port), "state", "LISTEN", "family", "INET6"})
	} else {
		t.Logf("no IPv6 socket: %v", err)
	}
	rows := osRows(t, "sockets", columns...)
	for _, w := range want {
		if got := rowsWith(rows, w...); len(got) != 1 {
			t.Errorf("sockets: %d rows with %q", len(got), w)
		}
	}
}

// testSysVIPC: a shared-memory segment, a semaphore set and a message
// queue the test makes, in their tables with their ids, sizes and
// permissions.
func testSysVIPC(t *testing.T) {
	const key = 0x14a14a
	shm, err := unix.SysvShmGet(key, 8192, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
	if err != nil {
		t.Skipf("System V shared memory: %v", err)
	}
	defer unix.SysvShmCtl(shm, unix.IPC_RMID, nil)
	shms := rowsWith(osRows(t, "shm", "key", "shmid", "permissions", "size", "creator command", "last op. command", "num attached",
		"user", "group", "creator user", "creator group", "last shmat() time", "last shmdt() time", "last shmctl() time"), "shmid", strconv.Itoa(shm))
	if len(shms) != 1 || shms[0]["key"] != strconv.Itoa(key) || shms[0]["size"] != "8192" || shms[0]["permissions"] != "640" || shms[0]["last shmat() time"] != "" {
		t.Errorf("shm %d: %v", shm, shms)
	}

	sem, _, errno := unix.Syscall(unix.SYS_SEMGET, key, 3, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if errno != 0 {
		t.Fatalf("semget: %v", errno)
	}
	defer unix.Syscall6(unix.SYS_SEMCTL, sem, 0, unix.IPC_RMID, 0, 0, 0)
	sems := rowsWith(osRows(t, "semaphores", "key", "semid", "permissions", "num semaphores", "user", "group",
		"creator user", "creator group", "last semop() time", "last semctl() time"), "semid", fmt.Sprint(sem))
	if len(sems) != 1 || sems[0]["num semaphores"] != "3" || sems[0]["permissions"] != "600" {
		t.Errorf("semaphores %d: %v", sem, sems)
	}

	msq, _, errno := unix.Syscall(unix.SYS_MSGGET, key, unix.IPC_CREAT|unix.IPC_EXCL|0o600, 0)
	if errno != 0 {
		t.Fatalf("msgget: %v", errno)
	}
	defer unix.Syscall(unix.SYS_MSGCTL, msq, unix.IPC_RMID, 0)
	msg := struct {
		mtype int64
		text  [5]byte
	}{1, [5]byte{'h', 'e', 'l', 'l', 'o'}}
	if _, _, errno := unix.Syscall6(unix.SYS_MSGSND, msq, uintptr(unsafe.Pointer(&msg)), 5, 0, 0, 0); errno != 0 {
		t.Fatalf("msgsnd: %v", errno)
	}
	msgs := rowsWith(osRows(t, "msg", "key", "msqid", "permissions", "num used bytes", "num messages", "last msgsnd() command",
		"last msgrcv() command", "user", "group", "creator user", "creator group", "last msgsnd() time", "last msgrcv() time",
		"last msgctl() time"), "msqid", fmt.Sprint(msq))
	self, _ := os.ReadFile("/proc/self/comm")
	if len(msgs) != 1 || msgs[0]["num used bytes"] != "5" || msgs[0]["num messages"] != "1" ||
		msgs[0]["last msgsnd() command"] != strings.TrimSpace(string(self)) || msgs[0]["last msgsnd() time"] == "" {
		t.Errorf("msg %d: %v", msq, msgs)
	}
}
