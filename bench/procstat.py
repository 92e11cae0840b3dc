"""CPU time and peak RSS of the processes of a benchmark run, from /proc.

Used by bench.py (the server's peak RSS while gdb runs, stray inferiors)
and by gdbbench.py inside gdb (CPU around each timed command).  Linux only;
standard library only.

The server is the process bench.py started (taskset execs it, so it is the
server itself) and its descendants, less the inferior: a process whose
/proc/PID/exe is the benchmark program.  The inferior's own descendants are
not looked for: the programs start none, and a 1,000-thread inferior would
make every sample slow.

A process's CPU is read from its CPU-time clock (clock_gettime on the
pid's process clock): the quantity /proc/PID/stat gives as utime + stime,
summed over all threads, exited ones included, but in ns instead of 10 ms
clock ticks.  A connect costs a few ms of server CPU, so ticks would not do.

Context switches are counted per thread by Linux, and /proc/PID/status
shows only the thread-group leader's, so they are read from every
/proc/PID/task/TID/status (voluntary_ctxt_switches: the thread blocked;
nonvoluntary_ctxt_switches: it was preempted) and summed.  A thread that
exits between two samples takes its counts with it (they are lost); one
that appears counts in full.
"""
import os
import time

TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """CPU time of process pid (all its threads), in s, or None."""
    try:
        # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), as glibc's
        # clock_getcpuclockid builds it (linux/posix-timers.h).
        return time.clock_gettime_ns(((~pid) << 3) | 2) / 1e9
    except (OSError, OverflowError, ValueError):
        return None


def status_kib(pid, field):
    """A "kB" field of /proc/PID/status (VmHWM, VmRSS), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def task_switches(pid):
    """{tid: [voluntary, nonvoluntary]} context switches so far of every
    thread of process pid ({} if it is gone).  The tid is a string, as in
    JSON."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        v = nv = None
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        v = int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        nv = int(line.split()[1])
                        break       # the last of the two lines
        except (OSError, ValueError, IndexError):
            continue                # the thread exited meanwhile
        if v is not None and nv is not None:
            out[tid] = [v, nv]
    return out


def switches(pids):
    """task_switches() of every pid, in one map: tids are unique across
    the processes of a system."""
    out = {}
    for pid in pids:
        out.update(task_switches(pid))
    return out


def switches_delta(before, after):
    """(voluntary, nonvoluntary, threads, gone) between two switches()
    samples: the switches of the threads of the second sample (threads:
    how many), a thread new since the first one counted in full (so is a
    tid reused in between, when its counts went down); gone: how many
    threads of the first sample had exited by the second, whose switches
    in between are lost."""
    v = nv = 0
    for tid, (v1, nv1) in after.items():
        v0, nv0 = before.get(tid, (0, 0))
        if v1 < v0 or nv1 < nv0:
            v0 = nv0 = 0
        v += v1 - v0
        nv += nv1 - nv0
    gone = sum(1 for tid in before if tid not in after)
    return v, nv, len(after), gone


def exe(pid):
    """The real path of /proc/PID/exe, or None."""
    try:
        return os.path.realpath(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return None


def children(pid):
    """Child pids of every thread of pid."""
    kids = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            pass
    return kids


def tree(root, prog):
    """(server pids, inferior pids) under root, root included.  A process
    whose exe is prog is an inferior; its descendants are not visited."""
    prog = os.path.realpath(prog) if prog else None
    server, inferior, seen = [], [], set()
    todo = [root] if root else []
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if prog and exe(pid) == prog:
            inferior.append(pid)
            continue
        server.append(pid)
        todo.extend(children(pid))
    return server, inferior


def cpu_sum(pids):
    """{pid: CPU s} for the pids that still exist."""
    out = {}
    for pid in pids:
        v = cpu_s(pid)
        if v is not None:
            out[pid] = v
    return out


def cpu_delta(before, after):
    """CPU (s) used between two cpu_sum() samples.  A process that appeared
    in between counts in full; one that vanished counts for nothing, which
    is right for the regions measured here (no process ends inside one)."""
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def cpu_idle_s(cpu):
    """Idle + iowait time of CPU number cpu since boot, in s (from
    /proc/stat, in clock ticks), or None."""
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu%d " % cpu):
                    v = line.split()
                    return (int(v[4]) + int(v[5])) / TCK
    except (OSError, ValueError, IndexError):
        pass
    return None


def hwm_kib(pids):
    """Sum of VmHWM (peak RSS) over pids in KiB, or None if none exist."""
    vals = [status_kib(p, "VmHWM") for p in pids]
    vals = [v for v in vals if v is not None]
    return sum(vals) if vals else None
