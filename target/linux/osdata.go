package linux

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/procfs"
	"gdbserverx/target"
)

// OSInfo reads the tables of gdb's `info os` from /proc, /etc/passwd
// and /etc/group (target.OSDataReader). Its tables and columns are GNU
// gdbserver's (gdb/nat/linux-osdata.c), so that scripts that read
// `info os` find what they expect, with these differences: a value is
// whole where gdbserver cuts it (a process name of 16 characters, a
// cpuinfo value holding a ':'), and has no stray blanks or newline
// (gdbserver leaves them around cpuinfo values and time stamps; gdb
// strips the former on display). It needs no process, keeps nothing
// between calls, and reads what the server's user may read: a process
// whose files it may not open shows what it could read (its pid, say).
type OSInfo struct{}

var _ target.OSDataReader = OSInfo{}

// osTable is one table: its type, heading and reader.
type osTable struct {
	target.OSDataType
	read func(u *idNames) ([]target.OSItem, error)
}

// osTables are the tables, in gdbserver's order (alphabetical).
var osTables = []osTable{
	{target.OSDataType{Type: "cpus", Title: "CPUs", Description: "Listing of all cpus/cores on the system"}, readCPUs},
	{target.OSDataType{Type: "files", Title: "File descriptors", Description: "Listing of all file descriptors"}, readFiles},
	{target.OSDataType{Type: "modules", Title: "Kernel modules", Description: "Listing of all loaded kernel modules"}, readModules},
	{target.OSDataType{Type: "msg", Title: "Message queues", Description: "Listing of all message queues"}, readMessageQueues},
	{target.OSDataType{Type: "processes", Title: "Processes", Description: "Listing of all processes"}, readProcesses},
	{target.OSDataType{Type: "procgroups", Title: "Process groups", Description: "Listing of all process groups"}, readProcessGroups},
	{target.OSDataType{Type: "semaphores", Title: "Semaphores", Description: "Listing of all semaphores"}, readSemaphores},
	{target.OSDataType{Type: "shm", Title: "Shared-memory regions", Description: "Listing of all shared-memory regions"}, readSharedMemory},
	{target.OSDataType{Type: "sockets", Title: "Sockets", Description: "Listing of all internet-domain sockets"}, readSockets},
	{target.OSDataType{Type: "threads", Title: "Threads", Description: "Listing of all threads"}, readThreads},
}

// OSDataTypes lists the tables.
func (OSInfo) OSDataTypes() []target.OSDataType {
	out := make([]target.OSDataType, len(osTables))
	for i, t := range osTables {
		out[i] = t.OSDataType
	}
	return out
}

// OSData reads one table.
func (OSInfo) OSData(typ string) ([]target.OSItem, error) {
	for _, t := range osTables {
		if t.Type == typ {
			return t.read(&idNames{})
		}
	}
	return nil, fmt.Errorf("info os %q: %w", typ, target.ErrNoOSData)
}

// item makes a row of name, value pairs.
func item(kv ...string) target.OSItem {
	it := make(target.OSItem, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		it = append(it, target.OSColumn{Name: kv[i], Value: kv[i+1]})
	}
	return it
}

// idNames names user and group ids from /etc/passwd and /etc/group,
// read once per table (os/user would bring cgo into the server).
type idNames struct {
	users, groups map[int]string
}

func (n *idNames) user(uid int) string {
	if n.users == nil {
		n.users = readIDFile("/etc/passwd")
	}
	return n.users[uid]
}

func (n *idNames) group(gid int) string {
	if n.groups == nil {
		n.groups = readIDFile("/etc/group")
	}
	return n.groups[gid]
}

// readIDFile reads name:password:id:... lines; the first name of an id
// wins, as getpwuid's does.
func readIDFile(path string) map[int]string {
	m := map[int]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 {
			continue
		}
		id, err := strconv.Atoi(f[2])
		if _, seen := m[id]; err == nil && !seen {
			m[id] = f[0]
		}
	}
	return m
}

// pids lists the processes of /proc, in increasing order.
func pids() []int {
	return numericEntries("/proc")
}

// numericEntries lists the names of a directory that are numbers, in
// increasing order; none when it cannot be read.
func numericEntries(dir string) []int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n >= 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// command is a process's name (the comm of its stat), or its pid when it
// has no /proc entry (gone, or another pid namespace's).
func command(pid int) string {
	st, err := procfs.ReadTaskStat(pid, pid)
	if err != nil {
		return strconv.Itoa(pid)
	}
	return st.Name()
}

// commandLine is a process's arguments joined by spaces, or its name in
// brackets when it has none (a kernel thread, a zombie).
func commandLine(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && len(b) > 0 {
		return string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '}))
	}
	return "[" + command(pid) + "]"
}

// owner is the user of a process (its /proc directory's owner), or "?".
func owner(pid int, u *idNames) string {
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d", pid), &st); err != nil {
		return "?"
	}
	return u.user(int(st.Uid))
}

// threadCore is the CPU a thread last ran on, or -1.
func threadCore(pid, tid int) int {
	st, err := procfs.ReadTaskStat(pid, tid)
	if err != nil {
		return -1
	}
	cpu, ok := st.Int(procfs.StatProcessor)
	if !ok {
		return -1
	}
	return int(cpu)
}

func readProcesses(u *idNames) ([]target.OSItem, error) {
	var out []target.OSItem
	for _, pid := range pids() {
		var cores []int
		for _, tid := range numericEntries(fmt.Sprintf("/proc/%d/task", pid)) {
			if c := threadCore(pid, tid); c >= 0 && !slices.Contains(cores, c) {
				cores = append(cores, c)
			}
		}
		slices.Sort(cores)
		list := make([]string, len(cores))
		for i, c := range cores {
			list[i] = strconv.Itoa(c)
		}
		out = append(out, item("pid", strconv.Itoa(pid), "user", owner(pid, u),
			"command", commandLine(pid), "cores", strings.Join(list, ",")))
	}
	return out, nil
}

func readProcessGroups(*idNames) ([]target.OSItem, error) {
	type member struct{ pid, pgid int }
	var ms []member
	for _, pid := range pids() {
		if pgid, err := unix.Getpgid(pid); err == nil && pgid > 0 {
			ms = append(ms, member{pid, pgid})
		}
	}
	// By group; its leader first, then by pid.
	slices.SortFunc(ms, func(a, b member) int {
		if a.pgid != b.pgid {
			return a.pgid - b.pgid
		}
		if (a.pid == a.pgid) != (b.pid == b.pgid) {
			if a.pid == a.pgid {
				return -1
			}
			return 1
		}
		return a.pid - b.pid
	})
	out := make([]target.OSItem, 0, len(ms))
	for _, m := range ms {
		out = append(out, item("pgid", strconv.Itoa(m.pgid), "leader command", command(m.pgid),
			"pid", strconv.Itoa(m.pid), "command line", commandLine(m.pid)))
	}
	return out, nil
}

func readThreads(*idNames) ([]target.OSItem, error) {
	var out []target.OSItem
	for _, pid := range pids() {
		cmd := command(pid)
		for _, tid := range numericEntries(fmt.Sprintf("/proc/%d/task", pid)) {
			out = append(out, item("pid", strconv.Itoa(pid), "command", cmd,
				"tid", strconv.Itoa(tid), "core", strconv.Itoa(threadCore(pid, tid))))
		}
	}
	return out, nil
}

func readFiles(*idNames) ([]target.OSItem, error) {
	var out []target.OSItem
	for _, pid := range pids() {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		fds := numericEntries(dir)
		if len(fds) == 0 {
			continue
		}
		cmd := command(pid)
		for _, fd := range fds {
			name, err := os.Readlink(fmt.Sprintf("%s/%d", dir, fd))
			if err != nil {
				name = strconv.Itoa(fd)
			}
			out = append(out, item("pid", strconv.Itoa(pid), "command", cmd,
				"file descriptor", strconv.Itoa(fd), "name", name))
		}
	}
	return out, nil
}

func readCPUs(*idNames) ([]target.OSItem, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	var out []target.OSItem
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "processor" || len(out) == 0 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], target.OSColumn{Name: key, Value: value})
	}
	return out, nil
}

// fileLines are the lines of a /proc table after its heading; none when
// the kernel has no such file (no modules, no System V IPC).
func fileLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) < 2 {
		return nil
	}
	return lines[1:]
}

// numbers parses the first n fields of a line as integers in base 10
// (the fields named in octal, by index, in base 8); ok is false when a
// field is missing or not a number.
func numbers(line string, n int, octal ...int) ([]int64, bool) {
	f := strings.Fields(line)
	if len(f) < n {
		return nil, false
	}
	out := make([]int64, n)
	for i := range n {
		base := 10
		if slices.Contains(octal, i) {
			base = 8
		}
		v, err := strconv.ParseInt(f[i], base, 64)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// stamp is a System V IPC time, as ctime(3) writes it in local time
// without its newline, or "" for 0 (never).
func stamp(sec int64) string {
	if sec == 0 {
		return ""
	}
	return time.Unix(sec, 0).Format("Mon Jan _2 15:04:05 2006")
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// readSharedMemory reads /proc/sysvipc/shm: key shmid perms size cpid
// lpid nattch uid gid cuid cgid atime dtime ctime.
func readSharedMemory(u *idNames) ([]target.OSItem, error) {
	var out []target.OSItem
	for _, line := range fileLines("/proc/sysvipc/shm") {
		v, ok := numbers(line, 14, 2)
		if !ok {
			continue
		}
		out = append(out, item("key", itoa(v[0]), "shmid", itoa(v[1]), "permissions", strconv.FormatInt(v[2], 8),
			"size", itoa(v[3]), "creator command", command(int(v[4])), "last op. command", command(int(v[5])),
			"num attached", itoa(v[6]), "user", u.user(int(v[7])), "group", u.group(int(v[8])),
			"creator user", u.user(int(v[9])), "creator group", u.group(int(v[10])),
			"last shmat() time", stamp(v[11]), "last shmdt() time", stamp(v[12]), "last shmctl() time", stamp(v[13])))
	}
	return out, nil
}

// readSemaphores reads /proc/sysvipc/sem: key semid perms nsems uid gid
// cuid cgid otime ctime.
func readSemaphores(u *idNames) ([]target.OSItem, error) {
	var out []target.OSItem
	for _, line := range fileLines("/proc/sysvipc/sem") {
		v, ok := numbers(line, 10, 2)
		if !ok {
			continue
		}
		out = append(out, item("key", itoa(v[0]), "semid", itoa(v[1]), "permissions", strconv.FormatInt(v[2], 8),
			"num semaphores", itoa(v[3]), "user", u.user(int(v[4])), "group", u.group(int(v[5])),
			"creator user", u.user(int(v[6])), "creator group", u.group(int(v[7])),
			"last semop() time", stamp(v[8]), "last semctl() time", stamp(v[9])))
	}
	return out, nil
}

// readMessageQueues reads /proc/sysvipc/msg: key msqid perms cbytes
// qnum lspid lrpid uid gid cuid cgid stime rtime ctime.
func readMessageQueues(u *idNames) ([]target.OSItem, error) {
	var out []target.OSItem
	for _, line := range fileLines("/proc/sysvipc/msg") {
		v, ok := numbers(line, 14, 2)
		if !ok {
			continue
		}
		out = append(out, item("key", itoa(v[0]), "msqid", itoa(v[1]), "permissions", strconv.FormatInt(v[2], 8),
			"num used bytes", itoa(v[3]), "num messages", itoa(v[4]),
			"last msgsnd() command", command(int(v[5])), "last msgrcv() command", command(int(v[6])),
			"user", u.user(int(v[7])), "group", u.group(int(v[8])),
			"creator user", u.user(int(v[9])), "creator group", u.group(int(v[10])),
			"last msgsnd() time", stamp(v[11]), "last msgrcv() time", stamp(v[12]), "last msgctl() time", stamp(v[13])))
	}
	return out, nil
}

// readModules reads /proc/modules: name size uses dependencies state
// address.
func readModules(*idNames) ([]target.OSItem, error) {
	b, err := os.ReadFile("/proc/modules")
	if err != nil {
		return nil, nil
	}
	var out []target.OSItem
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		addr, err := strconv.ParseUint(strings.TrimPrefix(f[5], "0x"), 16, 64)
		if err != nil {
			continue
		}
		out = append(out, item("name", f[0], "size", f[1], "num uses", f[2],
			"dependencies", f[3], "status", f[4], "address", strconv.FormatUint(addr, 16)))
	}
	return out, nil
}

// socketStates are the TCP states of /proc/net/tcp (include/net/tcp_states.h).
var socketStates = [...]string{1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}

// readSockets reads the internet sockets: TCP and UDP over IPv4, then
// over IPv6 (/proc/net/tcp, udp, tcp6, udp6).
func readSockets(u *idNames) ([]target.OSItem, error) {
	var out []target.OSItem
	for _, src := range []struct{ file, family, protocol string }{
		{"tcp", "INET", "STREAM"}, {"udp", "INET", "DGRAM"}, {"tcp6", "INET6", "STREAM"}, {"udp6", "INET6", "DGRAM"},
	} {
		for _, line := range fileLines("/proc/net/" + src.file) {
			if it, ok := socketItem(line, src.family, src.protocol, u); ok {
				out = append(out, it)
			}
		}
	}
	return out, nil
}

// socketItem parses a line of /proc/net/tcp (and its kin): "sl: local
// remote st tx:rx tr:when retrnsmt uid ...", addresses as ADDR:PORT in
// hex, ADDR the kernel's words in host byte order.
func socketItem(line, family, protocol string, u *idNames) (target.OSItem, bool) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return nil, false
	}
	local, lport, ok1 := socketAddr(f[1])
	remote, rport, ok2 := socketAddr(f[2])
	st, err1 := strconv.ParseUint(f[3], 16, 8)
	uid, err2 := strconv.Atoi(f[7])
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return nil, false
	}
	state := "(unknown)"
	if int(st) < len(socketStates) && socketStates[st] != "" {
		state = socketStates[st]
	}
	return item("local address", local, "local port", lport, "remote address", remote, "remote port", rport,
		"state", state, "user", u.user(uid), "family", family, "protocol", protocol), true
}

// socketAddr decodes "0100007F:0277" (127.0.0.1, 631) or its IPv6 form
// of four such words.
func socketAddr(s string) (addr, port string, ok bool) {
	a, p, found := strings.Cut(s, ":")
	pv, err := strconv.ParseUint(p, 16, 16)
	if !found || err != nil || (len(a) != 8 && len(a) != 32) {
		return "", "", false
	}
	var b [16]byte
	for i := 0; i < len(a)/8; i++ {
		w, err := strconv.ParseUint(a[8*i:8*i+8], 16, 32)
		if err != nil {
			return "", "", false
		}
		binary.LittleEndian.PutUint32(b[4*i:], uint32(w))
	}
	ip := netip.AddrFrom16(b)
	if len(a) == 8 {
		ip = netip.AddrFrom4([4]byte(b[:4]))
	}
	return ip.String(), strconv.FormatUint(pv, 10), true
}
