"""gdb's side of the benchmarks: loaded with `gdb -x gdbbench.py` before a
script of gdb/.  It talks to bench.py through the environment:

  BENCH_OUT         file to append JSON-lines records to
  BENCH_PARAMS      JSON object: the port, the scratch folder and the
                    benchmark's parameters; "{key}" in a command is
                    replaced by params[key]
  BENCH_SERVER_PID  pid of the server (for its CPU time and peak RSS)
  BENCH_PROG        the benchmark program: the process under the server
                    whose /proc/PID/exe is this file is the inferior
  BENCH_CPU         the CPU everything is pinned to, if any: its idle
                    time is sampled with the CPU times
  BENCH_PROBE       "1": a probe run.  Every timed command then runs with
                    `set debug remote 1` logged to {tmp}/NAME.rsp.log, for
                    bench.py to count the packets gdb sent.  Its times are
                    not used.

Commands (each records into BENCH_OUT):
  bench-connect NAME          target remote 127.0.0.1:PORT, timed as NAME
  bench-time NAME CMD...      run CMD, timed as NAME; its output is kept in
                              {tmp}/NAME.out
  bench-count-stops BP|watch  count the stops caused by breakpoint BP (or
                              by any watchpoint), per thread, from now on
  bench-stops NAME            record those counts
  bench-val NAME EXPR         record the value of EXPR
  bench-func NAME             record the selected frame's function name
  bench-types NAME            record the type of every breakpoint
  bench-poll                  (the polling client of `multi`) read seq and
                              {bytes} of buf, check them, count the poll
  bench-polls NAME            record the poll count and any mismatch
  bench-done                  record that the script got this far
  bench-do CMD...             run CMD after {param} substitution

A timed NAME gets two records: NAME (wall s) and NAME_cpu: the CPU that
the server, gdb and the inferior used in exactly that region and the
server's voluntary and nonvoluntary context switches in it (summed over
/proc/PID/task/*/status of its processes), sampled right before t0 and
right after t1 (the server and the inferior are idle while gdb samples:
gdb is not waiting for them), and the server's VmHWM.
"""
import json
import os
import re
import sys
import time

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procstat  # noqa: E402  (needs the path above)

_out = os.environ.get("BENCH_OUT")
_params = json.loads(os.environ.get("BENCH_PARAMS", "{}"))
_server_pid = int(os.environ.get("BENCH_SERVER_PID") or 0)
_prog = os.environ.get("BENCH_PROG") or None
_probe = os.environ.get("BENCH_PROBE") == "1"
_cpu = int(os.environ["BENCH_CPU"]) if os.environ.get("BENCH_CPU") else None


def record(key, value):
    line = json.dumps({"key": key, "value": value})
    if not _out:
        print("@@BENCH " + line)
        return
    with open(_out, "a") as f:
        f.write(line + "\n")


def subst(s):
    return s.format_map(_params) if "{" in s else s


def _split(arg, n):
    parts = arg.strip().split(None, n)
    if len(parts) < n + 1:
        raise gdb.GdbError("expected at least %d arguments" % (n + 1))
    return parts


for _setting in ("set pagination off", "set confirm off", "set height 0",
                 "set width 0", "set debuginfod enabled off",
                 "set print thread-events off"):
    try:
        gdb.execute(_setting)
    except gdb.error:
        pass


def _cpu_sample():
    """The first sample, right before t0; gdb's clock is read last."""
    server, inferior = procstat.tree(_server_pid, _prog)
    return {"server": procstat.cpu_sum(server),
            "inferior": procstat.cpu_sum(inferior),
            "csw": procstat.switches(server),
            "idle": procstat.cpu_idle_s(_cpu) if _cpu is not None else None,
            "gdb": time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID),
            "t": time.monotonic()}


def _cpu_record(before, wall):
    """The NAME_cpu record (s; context switches in counts); gdb's clock is
    read first, next to t1.  The server and the inferior are blocked
    while gdb samples, so reading their /proc files switches nothing."""
    g1 = time.clock_gettime(time.CLOCK_PROCESS_CPUTIME_ID)
    server, inferior = procstat.tree(_server_pid, _prog)
    s1 = procstat.cpu_sum(server)
    i1 = procstat.cpu_sum(inferior)
    csw1 = procstat.switches(server)
    vcsw, nvcsw, threads, gone = procstat.switches_delta(before["csw"],
                                                          csw1)
    idle = procstat.cpu_idle_s(_cpu) if _cpu is not None else None
    return {"wall": wall,
            "server": procstat.cpu_delta(before["server"], s1),
            "gdb": g1 - before["gdb"],
            "inferior": procstat.cpu_delta(before["inferior"], i1),
            # the server's context switches in the region, summed over
            # the threads of its processes; how many threads those are,
            # and how many exited in the region (their switches are lost)
            "server_vcsw": vcsw, "server_nvcsw": nvcsw,
            "server_threads": threads, "server_threads_gone": gone,
            "server_hwm_kib": procstat.hwm_kib(server),
            "server_pids": sorted(s1), "inferior_pids": sorted(i1),
            # for regions of several gdbs (multi): CLOCK_MONOTONIC is one
            # clock for every process, and the totals can be subtracted
            # across clients
            "t0": before["t"], "t1": time.monotonic(),
            "server_total0": sum(before["server"].values()),
            "server_total1": sum(s1.values()),
            "inferior_total0": sum(before["inferior"].values()),
            "inferior_total1": sum(i1.values()),
            "server_csw0": before["csw"], "server_csw1": csw1,
            # the pinned CPU's idle time (10 ms ticks)
            "idle0": before["idle"], "idle1": idle}


class _RSPLog:
    """In a probe run: gdb's packet log of one region, in a file."""
    def __init__(self, name):
        self.path = os.path.join(_params.get("tmp", "."), name + ".rsp.log")

    def __enter__(self):
        if _probe:
            for c in ("set logging file " + self.path,
                      "set logging overwrite on", "set logging redirect on",
                      "set logging debugredirect on",
                      "set logging enabled on", "set debug remote 1"):
                gdb.execute(c)
        return self

    def __exit__(self, *exc):
        if _probe:
            gdb.execute("set debug remote 0")
            gdb.execute("set logging enabled off")
        return False


_DEBUG_LINE = re.compile(rb"\s*\[remote\]")


def _timed(name, cmd, keep_output):
    # In a probe run the output goes to the packet log with the debug
    # lines (logging redirect), not to a string: the log of a memory write
    # holds raw bytes, which a Python string of gdb's output cannot.
    to_string = keep_output and not _probe
    c0 = _cpu_sample()
    with _RSPLog(name) as log:
        t0 = time.monotonic()
        try:
            out = gdb.execute(cmd, to_string=to_string)
        except gdb.error as e:
            record(name + "_error", str(e))
            raise
        wall = time.monotonic() - t0
    cpu = _cpu_record(c0, wall)
    record(name, wall)
    record(name + "_cpu", cpu)
    if not keep_output:
        return
    if _probe:
        with open(log.path, "rb") as f:
            lines = f.read().splitlines(True)
        out = b"".join(ln for ln in lines if not _DEBUG_LINE.match(ln))
    else:
        out = (out or "").encode()
    with open(os.path.join(_params["tmp"], name + ".out"), "wb") as f:
        f.write(out)


class BenchConnect(gdb.Command):
    """bench-connect NAME: target remote to the server, timed."""
    def __init__(self):
        super().__init__("bench-connect", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        _timed(arg.strip() or "connect",
               "target remote 127.0.0.1:%s" % _params["port"], False)
        try:
            record("inferior_pid", gdb.selected_inferior().pid)
        except gdb.error:
            pass


class BenchTime(gdb.Command):
    """bench-time NAME CMD: run CMD, timed; its output goes to NAME.out."""
    def __init__(self):
        super().__init__("bench-time", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        name, cmd = _split(arg, 1)
        _timed(name, subst(cmd), True)


class BenchDo(gdb.Command):
    """bench-do CMD: run CMD after {param} substitution."""
    def __init__(self):
        super().__init__("bench-do", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        gdb.execute(subst(arg.strip()))


class BenchVal(gdb.Command):
    """bench-val NAME EXPR: record the value of EXPR."""
    def __init__(self):
        super().__init__("bench-val", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        name, expr = _split(arg, 1)
        try:
            v = gdb.parse_and_eval(subst(expr))
            try:
                v = int(v)
            except gdb.error:
                v = str(v)
        except gdb.error as e:
            record(name + "_error", str(e))
            raise
        record(name, v)


_WATCH_TYPES = {getattr(gdb, n) for n in (
    "BP_WATCHPOINT", "BP_HARDWARE_WATCHPOINT", "BP_READ_WATCHPOINT",
    "BP_ACCESS_WATCHPOINT") if hasattr(gdb, n)}


class _StopCounter:
    """Counts, per thread, the stops that report only the breakpoint
    watched (or only watchpoints): a stop that also reports another
    breakpoint, such as the tbreak that ends the region, is not a hit."""
    def __init__(self):
        self.want = None
        self.by_thread = {}
        self.by_bp = {}
        self.other = 0
        self.connected = False

    def arm(self, want):
        self.want = want
        self.by_thread = {}
        self.by_bp = {}
        self.other = 0
        if not self.connected:
            gdb.events.stop.connect(self.on_stop)
            self.connected = True

    def on_stop(self, ev):
        bps = getattr(ev, "breakpoints", None) or []
        if self.want == "watch":
            hits = [b for b in bps if b.type in _WATCH_TYPES]
        else:
            hits = [b for b in bps if b.number == self.want]
        if not hits or len(hits) != len(bps):
            self.other += 1
            return
        for b in hits:
            self.by_bp[b.number] = self.by_bp.get(b.number, 0) + 1
        t = gdb.selected_thread()
        n = t.num if t is not None else 0
        self.by_thread[n] = self.by_thread.get(n, 0) + 1


_counter = _StopCounter()


class BenchCountStops(gdb.Command):
    """bench-count-stops BP|watch: count stops from now on."""
    def __init__(self):
        super().__init__("bench-count-stops", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        _counter.arm("watch" if arg == "watch"
                     else int(gdb.parse_and_eval(arg)))


class BenchStops(gdb.Command):
    """bench-stops NAME: record the stop counts."""
    def __init__(self):
        super().__init__("bench-stops", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        c = _counter.by_thread
        record(arg.strip() or "stops", {
            "total": sum(c.values()), "threads": len(c),
            "by_bp": sorted(_counter.by_bp.values()),
            "per_thread_min": min(c.values()) if c else 0,
            "per_thread_max": max(c.values()) if c else 0,
            "other": _counter.other})


class BenchFunc(gdb.Command):
    """bench-func NAME: record the name of the selected frame's function."""
    def __init__(self):
        super().__init__("bench-func", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        record(arg.strip() or "func", gdb.selected_frame().name())


class BenchTypes(gdb.Command):
    """bench-types NAME: record every breakpoint's type."""
    def __init__(self):
        super().__init__("bench-types", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        names = {}
        for attr in dir(gdb):
            if attr.startswith("BP_"):
                names.setdefault(getattr(gdb, attr), attr)
        record(arg.strip() or "types",
               [names.get(b.type, str(b.type)) for b in gdb.breakpoints()])


class _Poller:
    def __init__(self):
        self.count = 0
        self.bad = []
        self.expect = None

    def poll(self):
        inf = gdb.selected_inferior()
        n = int(_params["bytes"])
        seq = int(gdb.parse_and_eval("seq"))
        addr = int(gdb.parse_and_eval("(long)buf"))
        data = bytes(inf.read_memory(addr, n))
        self.count += 1
        if len(self.bad) < 5:
            if seq != self.count:
                self.bad.append("poll %d saw seq %d" % (self.count, seq))
            if data != _pattern(n):
                i = next(i for i in range(n) if data[i] != _pattern(n)[i])
                self.bad.append("poll %d: buf[%d] wrong" % (self.count, i))


_PATTERN = {}


def _pattern(n):
    """buf[i] = (i*7+3) & 0xff, as src/mem.c and src/multi.c fill it."""
    if n not in _PATTERN:
        _PATTERN[n] = bytes(((i * 7 + 3) & 0xff) for i in range(n))
    return _PATTERN[n]


_poller = _Poller()


class BenchPoll(gdb.Command):
    """bench-poll: read and check seq and buf (multi's polling client)."""
    def __init__(self):
        super().__init__("bench-poll", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        _poller.poll()


class BenchPolls(gdb.Command):
    """bench-polls NAME: record the polls."""
    def __init__(self):
        super().__init__("bench-polls", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        record(arg.strip() or "polls",
               {"total": _poller.count, "bad": _poller.bad})


class BenchServerPeak(gdb.Command):
    """bench-server-peak: record the server's VmHWM now (never raises: it
    runs as hook-kill and hook-detach, where an error would abort)."""
    def __init__(self):
        super().__init__("bench-server-peak", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        try:
            server, _ = procstat.tree(_server_pid, _prog)
            record("server_peak_kib", procstat.hwm_kib(server))
        except Exception:  # noqa: BLE001  (see the doc comment)
            pass


class BenchDone(gdb.Command):
    """bench-done: record that the script got this far."""
    def __init__(self):
        super().__init__("bench-done", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        record("done", True)


for _cls in (BenchConnect, BenchTime, BenchDo, BenchVal, BenchCountStops,
             BenchStops, BenchFunc, BenchTypes, BenchPoll, BenchPolls,
             BenchServerPeak, BenchDone):
    _cls()

# The server exits after the last kill or detach: read its peak RSS first.
for _hook in ("hook-kill", "hook-detach"):
    try:
        gdb.execute("define %s\nbench-server-peak\nend" % _hook)
    except gdb.error:
        pass
