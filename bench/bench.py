#!/usr/bin/env python3
"""gdbserverx benchmarks: real gdb against gdbserverx and GNU gdbserver.

    python3 bench/bench.py               # everything, about 4 minutes
    python3 bench/bench.py --quick       # a few seconds per benchmark
    python3 bench/bench.py -b stepi,bp -n 5
    python3 bench/bench.py -l            # list the benchmarks
    python3 bench/bench.py --spread -b stepi --want 'stepi.csw<=1'

It builds gdbserverx (go build ./cmd/gdbserverx) and the C programs of
bench/src (gcc) into a scratch folder, then runs every benchmark against
each server in turn, one repetition at a time (interleaved, so that drift
on the machine hits both alike), with gdb, the server and the program
pinned to one CPU.  It prints three tables (medians, spread, ratio
gdbserverx/gdbserver): the user's figures, the cost per event (server
CPU and context switches, round trips, gdb and inferior CPU, ceiling)
and peak RSS; with --spread, every figure's spread over 10 runs; with
--want, how many runs met each target.  It writes results.json,
RESULTS.md and every log to bench/results/DATE-TIME/ (-o to change); a
full run also writes bench/RESULTS.md.  bench/README.md describes the
method.

Needs gdb (13; its embedded Python), gcc, go, taskset and, for the
comparison, GNU gdbserver.  Python 3.9+ standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import procstat

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
PROGRAMS = ("spin", "bploop", "watchloop", "threads", "mem", "manythreads",
            "multi", "cond")
MIB = 1 << 20
SHORT = {"gdbserverx": "x", "gdbserver": "gs"}   # column headers


# ---------------------------------------------------------------------------
# What is measured
# ---------------------------------------------------------------------------

class Region:
    """A timed gdb command of one client (role) of a benchmark.  Its wall
    time gives the user's figure: events/s (shown="rate") or ms per
    command (shown="ms"); events() gives the divisor of the per-event
    rows: server, gdb and inferior CPU, the server's context switches,
    and RSP round trips.  id names it: BENCH.ID (figure_names); a
    benchmark with one region leaves it None (BENCH)."""
    def __init__(self, rec, label, unit, event, events, shown="rate",
                 role="main", id=None):
        self.rec = rec
        self.id = id
        self.label = label
        self.unit = unit
        self.event = event
        self.events = events      # (records by role, params) -> int
        self.shown = shown
        self.role = role


class Bench:
    """One benchmark: a program, a gdb script per client, parameters for
    the timed runs and for the probe run, its timed regions, and checks
    of its records: (records by role, params, run) -> [(name, ok, detail)].
    """
    def __init__(self, name, descr, prog, args, scripts, params, probe,
                 regions, check, multi=False, timeout=120, reps_factor=1):
        self.name = name
        self.descr = descr
        self.prog = prog
        self.args = args          # params -> program arguments
        self.scripts = scripts    # {role: gdb script}
        self.params = params
        self.probe = probe        # params of the probe run
        self.regions = regions
        self.check = check
        self.multi = multi        # needs a server with several clients
        self.timeout = timeout
        self.reps_factor = reps_factor


def stops_total(role="main"):
    def f(recs, p):
        st = recs.get(role, {}).get("stops")
        return st["total"] if st else None
    return f


def const(key, add=0):
    return lambda recs, p: p[key] + add


def one(recs, p):
    return 1


def check_done(recs, p, run):
    out = []
    for role, r in sorted(recs.items()):
        out.append(("%s: script ran to the end" % role if len(recs) > 1
                    else "script ran to the end", bool(r.get("done")),
                    "" if r.get("done") else run.get("why", {}).get(role,
                                                                    "")))
    return out


def check_stops(expected, role="main", threads=None, per_bp=None):
    def f(recs, p, run):
        st = recs.get(role, {}).get("stops")
        exp = expected(p)
        if not st:
            return [("%d hits" % exp, False, "no stop count")]
        out = [("stops == %d" % exp, st["total"] == exp,
                "%d stops (+%d other)" % (st["total"], st["other"]))]
        if threads:
            t, k = threads(p)
            out.append(("%d threads hit %d times each" % (t, k),
                        st["threads"] == t and st["per_thread_min"] == k
                        and st["per_thread_max"] == k,
                        "%d threads, %d..%d each" % (
                            st["threads"], st["per_thread_min"],
                            st["per_thread_max"])))
        if per_bp:
            count, each = per_bp(p)
            out.append(("each of %d watchpoints hit %d times" % (count,
                                                                 each),
                        st["by_bp"] == [each] * count, "%s" % st["by_bp"]))
        return out
    return f


def check_types(want, count=1, role="main"):
    def f(recs, p, run):
        types = [t for t in recs.get(role, {}).get("types", [])
                 if "WATCHPOINT" in t]
        return [("%d x %s" % (count, want), types == [want] * count,
                 ",".join(types) or "none")]
    return f


def checks(*fns):
    def f(recs, p, run):
        out = check_done(recs, p, run)
        for fn in fns:
            try:
                out += fn(recs, p, run)
            except Exception as e:  # noqa: BLE001  (a check never crashes)
                out.append((getattr(fn, "__name__", "check"), False,
                            "cannot check: %r" % e))
        return out
    return f


def pattern_ok(path, size, mul=7, add=3):
    """buf[i] == (i*mul+add) & 0xff for the size bytes of path."""
    if not os.path.exists(path):
        return False, "no file"
    got = os.path.getsize(path)
    if got != size:
        return False, "%d bytes, want %d" % (got, size)
    chunk = bytes(((i * mul + add) & 0xff) for i in range(256)) * 4096
    with open(path, "rb") as f:
        off = 0
        while True:
            data = f.read(len(chunk))
            if not data:
                break
            if data != chunk[:len(data)]:
                i = next(i for i, (a, b) in enumerate(zip(data, chunk))
                         if a != b)
                return False, "wrong byte at offset %d" % (off + i)
            off += len(data)
    return True, "%d bytes ok" % size


def write_pattern(path, size, mul, add):
    chunk = bytes(((i * mul + add) & 0xff) for i in range(256)) * 4096
    with open(path, "wb") as f:
        left = size
        while left > 0:
            f.write(chunk[:left])
            left -= len(chunk)


def output_of(run, name, role="main"):
    try:
        with open(os.path.join(run["tmp"], role, name + ".out"),
                  errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def make_benches(quick, scale):
    """The benchmarks, with their full (or --quick) and probe sizes."""
    def n(full, small):
        return max(1, int(round((small if quick else full) * scale)))

    def ex_stepi(recs, p, run):
        r = recs.get("main", {})
        out = output_of(run, "stepi")
        return [("still in main's loop", r.get("func") == "main",
                 "in %s" % r.get("func")),
                ("no other stop", "signal" not in out and "exited" not in out,
                 out.strip().splitlines()[-1] if out.strip() else "")]

    def ex_next(recs, p, run):
        r = recs.get("main", {})
        out = output_of(run, "next")
        return [("still in main's loop", r.get("func") == "main",
                 "in %s" % r.get("func")),
                ("no other stop", "signal" not in out and "exited" not in out,
                 out.strip().splitlines()[-1] if out.strip() else "")]

    def ex_memread(recs, p, run):
        path = os.path.join(run["tmp"], "main", "dump.bin")
        ok, detail = pattern_ok(path, p["size"])
        if os.path.exists(path):
            os.unlink(path)
        return [("dump byte for byte", ok, detail)]

    def ex_fileget(recs, p, run):
        path = os.path.join(run["tmp"], "main", "got.bin")
        ok, detail = pattern_ok(path, p["size"], 13, 5)
        if os.path.exists(path):
            os.unlink(path)
        return [("file byte for byte", ok, detail)]

    def ex_memwrite(recs, p, run):
        bad = recs.get("main", {}).get("bad")
        return [("program found every byte written", bad == 0,
                 "%s wrong bytes" % bad)]

    def ex_many(recs, p, run):
        t, d = p["t"], p["d"]
        bt = output_of(run, "bt")
        it = output_of(run, "info_threads")
        ba = output_of(run, "bt_all")
        frames = len(re.findall(r"^#\d+ ", bt, re.M))
        lines = len(re.findall(r"^\*?\s+\d+\s+Thread ", it, re.M))
        heads = len(re.findall(r"^Thread \d+ ", ba, re.M))
        parks = len(re.findall(r" park \(", ba))
        return [("bt: %d frames" % (d + 3), frames == d + 3,
                 "%d frames" % frames),
                ("info threads: %d threads" % (t + 1), lines == t + 1,
                 "%d lines" % lines),
                ("thread apply all bt: %d threads, %d park frames" % (
                    t + 1, t * (d + 1)),
                 heads == t + 1 and parks == t * (d + 1),
                 "%d threads, %d park frames" % (heads, parks))]

    def ex_multi(recs, p, run):
        out = []
        st = recs.get("poll", {}).get("polls")
        want = p["n"] // p["k"]
        out.append(("poll: %d polls, every seq and byte right" % want,
                    bool(st) and st["total"] == want and not st["bad"],
                    "%s polls %s" % (st["total"] if st else "no",
                                     "; ".join(st["bad"]) if st else "")))
        s = recs.get("step", {})
        c0, c1 = s.get("counter0"), s.get("counter1")
        out.append(("step: still in spin_b, which advanced",
                    s.get("func") == "spin_b" and isinstance(c0, int)
                    and isinstance(c1, int) and c1 > c0,
                    "in %s, counter_b %s -> %s" % (s.get("func"), c0, c1)))
        return out

    def ex_cond(recs, p, run):
        r = recs.get("main", {})
        out = []
        for where in ("target", "host"):
            st = r.get("stops_" + where)
            out.append(("%s: one stop, at i == %d" % (where, p["last"]),
                        bool(st) and st["total"] == 1 and st["other"] == 0
                        and r.get("i_" + where) == p["last"],
                        "%s stops (+%s other), i = %s" % (
                            st["total"] if st else "no",
                            st["other"] if st else "?",
                            r.get("i_" + where))))
        return out

    hw = check_types("BP_HARDWARE_WATCHPOINT")
    cond_n = n(5000, 300)
    watch_n = n(5000, 300)
    mem_r = n(64, 4) * MIB
    mem_w = n(16, 1) * MIB
    many_t = 1000 if not quick else 100
    F = Region
    return [
        Bench("connect", "`target remote` with the default sysroot "
              "(target:): gdb reads ld.so and libc over vFile",
              "spin", lambda p: ["1000"], {"main": "connect.gdb"}, {}, {},
              [F("connect", "connect, sysroot `target:` (vFile)", "ms",
                 "connect", one, "ms")],
              checks(), reps_factor=2),
        Bench("connect_local", "`target remote` after `set sysroot /`",
              "spin", lambda p: ["1000"], {"main": "connect_local.gdb"}, {},
              {}, [F("connect", "connect, `set sysroot /`", "ms", "connect",
                     one, "ms")],
              checks(), reps_factor=2),
        Bench("stepi", "`stepi N` in a straight loop", "spin",
              lambda p: ["1000000000"], {"main": "stepi.gdb"},
              {"n": n(20000, 1000)}, {"n": n(2000, 500)},
              [F("stepi", "`stepi %d` in a loop" % n(20000, 1000), "steps/s",
                 "step", const("n"))],
              checks(ex_stepi)),
        Bench("next", "`next N` in a straight loop (range steps)", "spin",
              lambda p: ["1000000000"], {"main": "next.gdb"},
              {"n": n(5000, 500)}, {"n": n(500, 100)},
              [F("next", "`next %d` in a loop" % n(5000, 500), "lines/s",
                 "line", const("n"))],
              checks(ex_next)),
        Bench("bp", "breakpoint with `silent; continue`, N calls",
              "bploop", lambda p: [str(p["n"])], {"main": "bp.gdb"},
              {"n": n(5000, 300)}, {"n": n(500, 100)},
              [F("loop", "breakpoint, `silent; continue`, %d calls" % n(
                  5000, 300), "stops/s", "stop",
                 stops_total())],
              checks(check_stops(lambda p: p["n"]))),
        Bench("bp_nonstop", "bp with gdb in non-stop mode (`set non-stop on`)",
              "bploop", lambda p: [str(p["n"])], {"main": "bp_nonstop.gdb"},
              {"n": n(5000, 300)}, {"n": n(500, 100)},
              [F("loop", "breakpoint in non-stop mode, `silent; continue`, "
                 "%d calls" % n(5000, 300), "stops/s", "stop",
                 stops_total())],
              checks(check_stops(lambda p: p["n"]))),
        Bench("cond", "`break hit if i == N-1` over N calls: the server "
              "evaluates the condition, then gdb does", "cond",
              lambda p: [str(p["n"])], {"main": "cond.gdb"},
              {"n": cond_n, "last": cond_n - 1},
              {"n": n(500, 100), "last": n(500, 100) - 1},
              [F("target", "`break hit if i == %d`, condition-evaluation "
                 "target, %d calls" % (cond_n - 1, cond_n), "calls/s",
                 "call", const("n"), id="target"),
               F("host", "the same, condition-evaluation host", "calls/s",
                 "call", const("n"), id="host")],
              checks(ex_cond)),
        Bench("watch", "`watch g`, a loop writing g N times", "watchloop",
              lambda p: ["w", str(p["n"])], {"main": "watch.gdb"},
              {"n": watch_n, "wcmd": "watch"},
              {"n": n(500, 100), "wcmd": "watch"},
              [F("loop", "`watch g`, %d writes" % watch_n, "hits/s", "hit",
                 stops_total())],
              checks(check_stops(lambda p: p["n"]), hw)),
        Bench("rwatch", "`rwatch g`, a loop reading g N times", "watchloop",
              lambda p: ["r", str(p["n"])], {"main": "watch.gdb"},
              {"n": watch_n, "wcmd": "rwatch"},
              {"n": n(500, 100), "wcmd": "rwatch"},
              [F("loop", "`rwatch g`, %d reads" % watch_n, "hits/s", "hit",
                 stops_total())],
              checks(check_stops(lambda p: p["n"]),
                     check_types("BP_READ_WATCHPOINT"))),
        Bench("awatch", "`awatch g`, a loop writing g N times", "watchloop",
              lambda p: ["w", str(p["n"])], {"main": "watch.gdb"},
              {"n": watch_n, "wcmd": "awatch"},
              {"n": n(500, 100), "wcmd": "awatch"},
              [F("loop", "`awatch g`, %d writes" % watch_n, "hits/s", "hit",
                 stops_total())],
              checks(check_stops(lambda p: p["n"]),
                     check_types("BP_ACCESS_WATCHPOINT"))),
        Bench("watch4", "four `watch`es on four longs, each written N times",
              "watchloop", lambda p: ["4", str(p["n"])],
              {"main": "watch4.gdb"}, {"n": n(1000, 100)},
              {"n": n(100, 50)},
              [F("loop", "4 `watch`es, %d x 4 writes" % n(1000, 100), "hits/s",
                 "hit",
                 stops_total())],
              checks(check_stops(lambda p: 4 * p["n"],
                                 per_bp=lambda p: (4, p["n"])),
                     check_types("BP_HARDWARE_WATCHPOINT", 4))),
        Bench("threads", "`watch g`; 64 threads (32 created after the "
              "watch) write g K times each", "threads",
              lambda p: [str(p["t"]), str(p["k"])], {"main": "threads.gdb"},
              {"t": 64, "half": 32, "k": n(20, 2)},
              {"t": 64, "half": 32, "k": n(5, 2)},
              [F("loop", "`watch g`, 64 threads x %d writes" % n(20, 2),
                 "hits/s", "hit",
                 stops_total())],
              checks(check_stops(lambda p: p["t"] * p["k"],
                                 threads=lambda p: (p["t"], p["k"])), hw)),
        Bench("memread", "`dump binary memory` of a heap buffer", "mem",
              lambda p: ["r", str(p["size"])], {"main": "memread.gdb"},
              {"size": mem_r}, {"size": n(4, 1) * MIB},
              [F("dump", "memory read, `dump binary memory` %d MiB" % (
                  mem_r // MIB), "MiB/s", "MiB",
                 lambda r, p: p["size"] / MIB)],
              checks(ex_memread), timeout=300),
        Bench("fileget", "`remote get` of a file (vFile:pread in "
              "sequence)", "spin", lambda p: ["1000"],
              {"main": "fileget.gdb"}, {"size": mem_w},
              {"size": n(2, 1) * MIB},
              [F("get", "`remote get` of a %d MiB file" % (mem_w // MIB),
                 "MiB/s", "MiB", lambda r, p: p["size"] / MIB)],
              checks(ex_fileget), timeout=300),
        Bench("memwrite", "`restore` of a binary file into a heap buffer",
              "mem", lambda p: ["w", str(p["size"])],
              {"main": "memwrite.gdb"}, {"size": mem_w},
              {"size": n(2, 1) * MIB},
              [F("restore", "memory write, `restore` %d MiB" % (
                  mem_w // MIB), "MiB/s", "MiB",
                 lambda r, p: p["size"] / MIB)],
              checks(ex_memwrite), timeout=300),
        Bench("manythreads", "`bt`, `info threads` and `thread apply all "
              "bt` in a program with %d threads" % many_t, "manythreads",
              lambda p: [str(p["t"]), str(p["d"])],
              {"main": "manythreads.gdb"}, {"t": many_t, "d": 10},
              {"t": many_t, "d": 10},
              [F("bt", "`bt` (13 frames), %d threads" % many_t, "ms",
                 "command", one, "ms", id="bt"),
               F("info_threads", "`info threads`, %d threads" % many_t,
                 "ms", "thread", const("t", add=1), "ms",
                 id="info_threads"),
               F("bt_all", "`thread apply all bt`, %d threads" % many_t,
                 "ms", "thread", const("t", add=1), "ms", id="bt_all")],
              checks(ex_many), timeout=300),
        Bench("multi", "three gdbs on one server: one with `watch g` over "
              "N writes, one polling 64 KiB every K writes, one "
              "stepping another thread", "multi",
              lambda p: [str(p["n"]), str(p["k"]), str(p["bytes"])],
              {"watch": "multi_watch.gdb", "poll": "multi_poll.gdb",
               "step": "multi_step.gdb"},
              {"n": n(5000, 200), "k": 20, "bytes": 65536,
               "steps": n(5000, 200)},
              {"n": n(200, 100), "k": 20, "bytes": 65536,
               "steps": n(200, 100)},
              [F("loop", "multi: watching client", "hits/s", "hit",
                 stops_total("watch"), role="watch", id="watch"),
               F("loop", "multi: polling client (64 KiB a poll)", "polls/s",
                 "poll", lambda r, p: (r.get("poll", {}).get("polls") or
                                       {}).get("total"), role="poll",
                 id="poll"),
               F("steps", "multi: stepping client", "steps/s", "step",
                 const("steps"), role="step", id="step")],
              checks(check_stops(lambda p: p["n"], role="watch"),
                     check_types("BP_HARDWARE_WATCHPOINT", role="watch"),
                     ex_multi),
              multi=True),
    ]


# ---------------------------------------------------------------------------
# Servers and processes
# ---------------------------------------------------------------------------

class Server:
    def __init__(self, label, path, multi_client):
        self.label = label
        self.path = path
        self.multi_client = multi_client

    def argv(self, prog_argv, files_dir):
        # port 0: the server picks a free port and prints it. gdbserverx
        # lets gdb read host files (vFile) only where it is told to, and
        # `remote get` reads one of the run's own.
        if self.multi_client:
            return [self.path, "--vfile-root", files_dir, "127.0.0.1:0"] + prog_argv
        return [self.path, "127.0.0.1:0"] + prog_argv

    def version(self):
        try:
            p = subprocess.run([self.path, "--version"], capture_output=True,
                               text=True, timeout=10,
                               stdin=subprocess.DEVNULL)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"


_LISTENING = re.compile(rb"Listening on port (\d+)")


def start_server(argv, log_path, cwd, deadline_s=15.0):
    """Start the server and wait for its "Listening on port N" line on
    stderr (readiness without a probe connection, which would count as a
    client).  Returns (Popen, port, seconds to the line) or raises.  The
    rest of stderr is copied to log_path by a thread."""
    log = open(log_path, "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.PIPE, cwd=cwd,
                            start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    got = b""
    port = None
    try:
        while port is None:
            left = deadline_s - (time.monotonic() - t0)
            if left <= 0:
                raise RuntimeError("server not listening after %.0f s"
                                   % deadline_s)
            if not sel.select(left):
                continue
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                proc.wait()
                raise RuntimeError("server exited (status %s) before "
                                   "listening: %s" % (
                                       proc.returncode,
                                       got.decode(errors="replace")[-300:]))
            got += chunk
            m = _LISTENING.search(got)
            if m:
                port = int(m.group(1))
        ready = time.monotonic() - t0
    except BaseException:
        kill_group(proc)
        log.write(got)
        log.close()
        raise
    finally:
        sel.close()
    log.write(got)
    log.flush()

    def drain():
        with log:
            for chunk in iter(lambda: os.read(proc.stderr.fileno(), 65536),
                              b""):
                log.write(chunk)
                log.flush()
    threading.Thread(target=drain, daemon=True).start()
    return proc, port, ready


def kill_group(proc):
    """SIGKILL the process group of a process started in its own session
    (the server, or gdb), and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def kill_strays(pids, prog):
    """Kill inferiors that outlived their server: by pid, and only if the
    process is still the freshly built program."""
    for pid in pids:
        if procstat.exe(pid) == os.path.realpath(prog):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Peak:
    """The server's peak RSS: VmHWM summed over its processes (not the
    inferior), the largest reading.  VmHWM only grows while a process
    lives, so the last reading before it exits is the peak.  Also
    collects the inferior's pids, for kill_strays."""
    def __init__(self, pid, prog):
        self.pid, self.prog = pid, prog
        self.kib = None
        self.inferiors = set()

    def poll(self):
        try:
            server, inferior = procstat.tree(self.pid, self.prog)
        except OSError:
            return
        self.inferiors.update(inferior)
        v = procstat.hwm_kib(server)
        if v is not None and (self.kib is None or v > self.kib):
            self.kib = v


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

class Runner:
    def __init__(self, opts, scratch, outdir):
        self.opts = opts
        self.scratch = scratch
        self.outdir = outdir
        self.bindir = os.path.join(scratch, "bin")
        self.taskset = ["taskset", "-c", opts.cpus] if opts.cpus else []

    def build_programs(self):
        os.makedirs(self.bindir, exist_ok=True)
        for prog in PROGRAMS:
            # -no-pie: fixed addresses; -falign-functions=16: no two
            # breakpoint addresses adjacent (see src/bench.h)
            subprocess.run(["gcc", "-O1", "-g", "-no-pie",
                            "-falign-functions=16", "-pthread", "-Wall",
                            "-Werror", "-o", os.path.join(self.bindir, prog),
                            os.path.join(BENCH_DIR, "src", prog + ".c")],
                           check=True)

    def run_once(self, bench, server, params, tag, probe=False):
        """One run: the server, then gdb (one per role) until it ends.
        Returns the run: {"error", "records" {role: {key: value}},
        "ready_s", "hwm_kib", "tmp", "why" {role: text}}."""
        tmp = os.path.join(self.scratch, "run")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        logs = os.path.join(self.outdir, "logs")
        os.makedirs(logs, exist_ok=True)
        prog = os.path.join(self.bindir, bench.prog)
        prog_argv = [prog] + bench.args(params)
        run = {"tmp": tmp, "error": None, "records": {}, "why": {}}
        if bench.name in ("memwrite", "fileget"):
            params = dict(params, pattern=os.path.join(tmp, "pattern.bin"))
            write_pattern(params["pattern"], params["size"], 13, 5)
        try:
            srv, port, ready = start_server(
                self.taskset + server.argv(prog_argv, tmp),
                os.path.join(logs, tag + ".server.log"), tmp)
        except (RuntimeError, OSError) as e:
            run["error"] = str(e)
            return run
        run["ready_s"] = ready
        peak = Peak(srv.pid, prog)
        gdbs = {}
        try:
            for role, script in bench.scripts.items():
                rdir = os.path.join(tmp, role)
                os.makedirs(rdir)
                p = dict(params, port=port, tmp=rdir)
                env = dict(os.environ,
                           BENCH_OUT=os.path.join(rdir, "records.jsonl"),
                           BENCH_PARAMS=json.dumps(p),
                           BENCH_SERVER_PID=str(srv.pid), BENCH_PROG=prog,
                           BENCH_PROBE="1" if probe else "0",
                           BENCH_CPU=self.opts.cpus
                           if self.opts.cpus.isdigit() else "")
                argv = self.taskset + [
                    self.opts.gdb, "-nx", "-batch", "-q",
                    "-iex", "set debuginfod enabled off",
                    "-iex", "set pagination off", prog,
                    "-x", os.path.join(BENCH_DIR, "gdbbench.py"),
                    "-x", os.path.join(BENCH_DIR, "gdb", script)]
                log_path = os.path.join(logs, "%s.%s.gdb.log" % (tag, role))
                with open(log_path, "w") as log:
                    gdbs[role] = (subprocess.Popen(
                        argv, stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT, cwd=rdir, env=env,
                        start_new_session=True), log_path)
            run["error"] = self.wait_gdbs(gdbs, bench, peak, tmp)
        finally:
            for g, _ in gdbs.values():
                if g.poll() is None:
                    kill_group(g)
            # the server exits by itself after gdb's kill or last detach;
            # read its VmHWM until then
            end = time.monotonic() + 3
            while srv.poll() is None and time.monotonic() < end:
                peak.poll()
                time.sleep(0.01)
            kill_group(srv)
            for role in gdbs:
                run["records"][role] = read_records(
                    os.path.join(tmp, role, "records.jsonl"))
            pids = set(peak.inferiors)
            for r in run["records"].values():
                if isinstance(r.get("inferior_pid"), int):
                    pids.add(r["inferior_pid"])
            kill_strays(pids, prog)
        hwm = [peak.kib] + [r.get("server_peak_kib")
                            for r in run["records"].values()]
        for r in run["records"].values():
            for k, v in r.items():
                if k.endswith("_cpu") and isinstance(v, dict):
                    hwm.append(v.get("server_hwm_kib"))
        hwm = [h for h in hwm if isinstance(h, (int, float))]
        run["hwm_kib"] = max(hwm) if hwm else None
        for role, (_, log_path) in gdbs.items():
            if not run["records"][role].get("done"):
                run["why"][role] = gdb_failure(run["records"][role],
                                               log_path)
        return run

    def wait_gdbs(self, gdbs, bench, peak, tmp):
        """Wait for every gdb, reading the server's peak RSS meanwhile.
        When one gdb ends without finishing its script, the others get
        5 s more: a client that cannot connect must not leave the others
        waiting for a program that never starts."""
        end = time.monotonic() + bench.timeout
        while True:
            peak.poll()
            running = [r for r, (g, _) in gdbs.items() if g.poll() is None]
            if not running:
                return None
            failed = [r for r, (g, _) in gdbs.items()
                      if g.poll() is not None and not read_records(
                          os.path.join(tmp, r, "records.jsonl")).get("done")]
            if failed:
                end = min(end, time.monotonic() + 5)
            if time.monotonic() > end:
                return "gdb (%s) still running after %s" % (
                    ", ".join(running),
                    "a client failed" if failed else
                    "%d s" % bench.timeout)
            time.sleep(0.1)


def read_records(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                out[rec["key"]] = rec["value"]
    except OSError:
        pass
    return out


def gdb_failure(records, log_path):
    """Why a gdb script stopped early: its recorded error, else the last
    lines gdb printed."""
    errs = [v for k, v in records.items() if k.endswith("_error") and v]
    if errs:
        return " / ".join(str(e).replace("\n", " ") for e in errs)[:300]
    try:
        with open(log_path, errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return "no gdb log"
    return " / ".join(lines[-3:])[:300] or "gdb printed nothing"


def count_packets(path):
    """Packets gdb sent in a `set debug remote 1` log: each one is a round
    trip (gdb waits for its reply; no-ack mode)."""
    n = 0
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if "Sending packet:" in line:
                    n += 1
    except OSError:
        return None
    return n


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------

def figures(bench, params, run):
    """The figures of one timed run: {key: value}."""
    figs = {}
    recs = run["records"]
    if "ready_s" in run and bench.name == "connect":
        figs["ready_ms"] = run["ready_s"] * 1e3
    if run.get("hwm_kib"):
        figs["rss_mib"] = run["hwm_kib"] / 1024
    for i, reg in enumerate(bench.regions):
        r = recs.get(reg.role, {})
        wall = r.get(reg.rec)
        n = reg.events(recs, params)
        if not isinstance(wall, (int, float)) or not n or wall <= 0:
            continue
        figs["r%d.user" % i] = (n / wall if reg.shown == "rate"
                                else wall * 1e3)
        c = r.get(reg.rec + "_cpu")
        if not isinstance(c, dict):
            continue
        figs["r%d.gdb_us" % i] = c["gdb"] / n * 1e6
        if bench.multi:
            # the server and the program work for all clients at once:
            # see the "all" figures below
            continue
        cost_figures(figs, "r%d" % i, c["server"], c["gdb"], c["inferior"],
                     c["wall"], n, idle_s(c, c),
                     (c.get("server_vcsw"), c.get("server_nvcsw"),
                      c.get("server_threads"), c.get("server_threads_gone")))
    if bench.multi:
        multi_figures(bench, params, recs, figs)
    return figs


def idle_s(first, last):
    a, b = first.get("idle0"), last.get("idle1")
    return b - a if isinstance(a, float) and isinstance(b, float) else None


def cost_figures(figs, key, s, g, inf, wall, n, idle, csw):
    """The per-event figures of a region: server, gdb and inferior CPU
    (s -> us), the server's context switches (csw: voluntary,
    nonvoluntary, threads they were summed over, threads that exited in
    between; None when not sampled),
    the ceiling, and the CPU accounted for."""
    figs[key + ".srv_us"] = s / n * 1e6
    v, nv, threads, gone = csw
    if isinstance(threads, int):                # results.json only
        figs[key + ".srv_threads"] = threads
        figs[key + ".srv_threads_gone"] = gone or 0
    if isinstance(v, int) and isinstance(nv, int):
        figs[key + ".csw"] = (v + nv) / n
        figs[key + ".vcsw"] = v / n
        figs[key + ".nvcsw"] = nv / n
    figs[key + ".gdb_us"] = g / n * 1e6
    figs[key + ".inf_us"] = inf / n * 1e6
    if g + inf > 0:
        figs[key + ".ceiling"] = (s + g + inf) / (g + inf)
    if wall > 0:
        # 1.00 when nothing else ran on the pinned CPU and it never idled
        figs[key + ".accounted"] = (s + g + inf) / wall
        if idle is not None:
            figs[key + ".idle"] = idle / wall


def multi_figures(bench, params, recs, figs):
    """The "all" figures of a benchmark with several clients: every
    client's events over the union of their timed regions, from the first
    client's t0 to the last one's t1; the server's and the program's CPU
    over that union, and the sum of each gdb's CPU in its own region."""
    cpus, total, gdb = [], 0, 0.0
    for reg in bench.regions:
        c = recs.get(reg.role, {}).get(reg.rec + "_cpu")
        n = reg.events(recs, params)
        if not isinstance(c, dict) or not n:
            return
        cpus.append(c)
        total += n
        gdb += c["gdb"]
    first = min(cpus, key=lambda c: c["t0"])
    last = max(cpus, key=lambda c: c["t1"])
    wall = last["t1"] - first["t0"]
    if wall <= 0:
        return
    figs["all.user"] = total / wall
    csw = (None, None, None, None)
    if "server_csw0" in first and "server_csw1" in last:
        csw = procstat.switches_delta(first["server_csw0"],
                                      last["server_csw1"])
    cost_figures(figs, "all",
                 last["server_total1"] - first["server_total0"], gdb,
                 last["inferior_total1"] - first["inferior_total0"], wall,
                 total, idle_s(first, last), csw)


def probe_figures(bench, params, run):
    figs = {}
    total_n = total_k = 0
    for i, reg in enumerate(bench.regions):
        n = reg.events(run["records"], params)
        k = count_packets(os.path.join(run["tmp"], reg.role,
                                       reg.rec + ".rsp.log"))
        if n and k is not None:
            figs["r%d.rt" % i] = k / n
            total_n += n
            total_k += k
    if bench.multi and total_n:
        figs["all.rt"] = total_k / total_n
    return figs


def summarize(vals):
    """(median, spread) of a list of numbers; spread = (max-min)/median."""
    if not vals:
        return None, None
    med = statistics.median(vals)
    spread = ((max(vals) - min(vals)) / med if len(vals) > 1 and med
              else None)
    return med, spread


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 10:
        return "%.2f" % v
    if a >= 1:
        return "%.3f" % v
    return "%.3g" % v


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def machine():
    def first_line(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True,
                               timeout=20, cwd=ROOT)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // (1 << 20)
    return {
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "cpu": "%s, %d vCPU, %d GiB" % (cpu, os.cpu_count(), mem),
        "kernel": "%s %s" % (platform.system(), platform.release()),
        "gdb": first_line(["gdb", "--version"]),
        "gcc": first_line(["gcc", "--version"]),
        "go": first_line(["go", "version"]),
        "commit": first_line(["git", "describe", "--always", "--dirty"]),
    }


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-b", "--bench", default="",
                    help="comma-separated benchmarks (default: all; -l)")
    ap.add_argument("-n", "--reps", type=int, default=None,
                    help="repetitions (default 3, --spread 10, --quick 1); "
                         "connect and connect_local run 2n+1 times")
    ap.add_argument("--spread", action="store_true",
                    help="10 repetitions unless -n says otherwise, and a "
                         "table of every figure's median [min..max] and "
                         "largest deviation from the median, per server "
                         "and for the ratio of paired runs")
    ap.add_argument("--want", action="append", default=[],
                    metavar="[SERVER:]FIGURE OP NUMBER",
                    help="a target to count runs against, e.g. "
                         "manythreads.bt_all<=0.9 (the ratio first/second "
                         "server, per pair of runs) or "
                         "gdbserverx:stepi.rss<=10 (that server's own "
                         "value, per run); OP is <=, <, >= or >; repeat "
                         "it or separate targets with commas.  Exit status "
                         "3 if one is missed in any run")
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, 1 repetition: a few seconds per "
                         "benchmark (for tests)")
    ap.add_argument("-s", "--scale", type=float, default=1.0,
                    help="multiply the loop counts and sizes by this")
    ap.add_argument("--servers", default="gdbserverx,gdbserver",
                    help="servers to run, in this order (the ratio is "
                         "first/second)")
    ap.add_argument("--gdbserverx", default="",
                    help="use this gdbserverx binary instead of building "
                         "./cmd/gdbserverx")
    ap.add_argument("--gdbserver", default="gdbserver",
                    help="GNU gdbserver (default: from PATH)")
    ap.add_argument("--gdb", default="gdb")
    ap.add_argument("--cpus", default="last",
                    help="taskset -c CPUS for gdb, servers and programs "
                         "(default: the last CPU; 'none': no pinning)")
    ap.add_argument("--no-probe", action="store_true",
                    help="skip the round-trip probe runs")
    ap.add_argument("-o", "--out", default="",
                    help="results folder (default bench/results/DATE-TIME)")
    ap.add_argument("--results", default=None,
                    help="also write RESULTS.md here (default: "
                         "bench/RESULTS.md for a full run, else nowhere)")
    ap.add_argument("-l", "--list", action="store_true",
                    help="list the benchmarks and their figures")
    opts = ap.parse_args()
    if opts.reps is None:
        opts.reps = 10 if opts.spread else 1 if opts.quick else 3
    if opts.reps < 1:
        ap.error("-n: at least one repetition")
    if opts.cpus == "last":
        opts.cpus = str(max(os.sched_getaffinity(0)))
    elif opts.cpus == "none":
        opts.cpus = ""

    benches = make_benches(opts.quick, opts.scale)
    if opts.list:
        for b in benches:
            print("%-14s %s" % (b.name, b.descr))
            print("%-14s figures: %s" % ("", " ".join(
                f.name for f in figure_names(b) if f.key.endswith(".user")
                or f.key in ("ready_ms", "rss_mib"))))
        print("A region's figure (BENCH or BENCH.REGION) followed by one "
              "of\n%s names that row of its cost per event (--want)." %
              " ".join("." + k for k, _, _, _ in COST_ROWS if k != "rt"))
        return 0
    full = not opts.bench and not opts.quick and opts.scale == 1.0
    if opts.bench:
        want = opts.bench.split(",")
        unknown = set(want) - {b.name for b in benches}
        if unknown:
            ap.error("unknown benchmark(s): %s (-l lists them)"
                     % ",".join(sorted(unknown)))
        benches = [b for b in benches if b.name in want]
    try:
        opts.wants = parse_wants(opts.want, benches,
                                 opts.servers.split(","))
    except ValueError as e:
        ap.error(str(e))
    for tool in (opts.gdb, "gcc", "taskset") + (
            () if opts.gdbserverx else ("go",)):
        if not shutil.which(tool):
            print("bench: %s not found" % tool, file=sys.stderr)
            return 2

    scratch = tempfile.mkdtemp(prefix="gdbserverx-bench-")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.abspath(opts.out or os.path.join(BENCH_DIR, "results",
                                                      stamp))
    os.makedirs(outdir, exist_ok=True)
    try:
        return run_all(opts, benches, scratch, outdir, full)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_all(opts, benches, scratch, outdir, full):
    runner = Runner(opts, scratch, outdir)
    servers = []
    for label in opts.servers.split(","):
        if label == "gdbserverx":
            path = opts.gdbserverx
            if not path:
                path = os.path.join(scratch, "gdbserverx")
                print("go build -o %s ./cmd/gdbserverx" % path)
                b = subprocess.run(["go", "build", "-o", path,
                                    "./cmd/gdbserverx"], cwd=ROOT)
                if b.returncode != 0:
                    print("bench: go build failed", file=sys.stderr)
                    return 2
            servers.append(Server("gdbserverx", os.path.abspath(path), True))
        elif label == "gdbserver":
            path = shutil.which(opts.gdbserver)
            if not path:
                print("bench: GNU gdbserver not found: no comparison "
                      "(apt-get install gdbserver)", file=sys.stderr)
                continue
            servers.append(Server("gdbserver", path, False))
        else:
            print("bench: unknown server %r" % label, file=sys.stderr)
            return 2
    if not servers:
        return 2
    runner.build_programs()

    env = machine()
    env.update({"reps": opts.reps, "quick": opts.quick,
                "spread": opts.spread,
                "scale": opts.scale, "pinned_cpu": opts.cpus or "none",
                "command": " ".join(["python3", "bench/bench.py"]
                                    + sys.argv[1:]),
                "servers": {s.label: {"path": s.path,
                                      "version": s.version()}
                            for s in servers}})
    print("%s  %s  %s" % (env["date"], env["cpu"], env["kernel"]))
    print("%s; %s" % (env["gdb"], "; ".join(
        "%s: %s" % (k, v["version"]) for k, v in env["servers"].items())))
    print("gdbserverx at %s; reps %d; pinned to CPU %s; logs in %s" % (
        env["commit"], opts.reps, env["pinned_cpu"], outdir))
    busy = env["others_running"] = round(others_running(), 1)
    if busy >= 0.5:
        print("warning: %.1f other runnable tasks: something else is "
              "running; figures will be noisy" % busy)
    sys.stdout.flush()

    results = {}
    t_all = time.monotonic()
    for bench in benches:
        t_b = time.monotonic()
        res = results[bench.name] = {}
        who = [s for s in servers if s.multi_client or not bench.multi]
        for s in servers:
            res[s.label] = {"runs": [], "probe": None,
                            "na": None if s in who else
                            "n/a: serves one client"}
        reps = opts.reps * bench.reps_factor + (bench.reps_factor - 1)
        for rep in range(reps):
            # alternate the order, so that neither server always runs
            # right after the other's teardown
            order = who if rep % 2 == 0 else list(reversed(who))
            for s in order:
                tag = "%s.%s.%d" % (bench.name, s.label, rep)
                run = runner.run_once(bench, s, bench.params, tag)
                res[s.label]["runs"].append(judge(bench, bench.params, run))
        if not opts.no_probe:
            for s in who:
                tag = "%s.%s.probe" % (bench.name, s.label)
                run = runner.run_once(bench, s, bench.probe, tag, probe=True)
                pr = judge(bench, bench.probe, run, probe=True)
                for role in bench.scripts:
                    for reg in bench.regions:
                        src = os.path.join(run["tmp"], role,
                                           reg.rec + ".rsp.log")
                        if reg.role == role and os.path.exists(src):
                            shutil.copy(src, os.path.join(
                                runner.outdir, "logs",
                                "%s.%s.rsp.log" % (tag, role)))
                res[s.label]["probe"] = pr
        status = "  ".join("%s %s" % (s.label, cell_status(res[s.label]))
                           for s in servers)
        print("  %-14s %6.1f s   %s" % (bench.name, time.monotonic() - t_b,
                                        status))
        sys.stdout.flush()
    env["total_s"] = round(time.monotonic() - t_all, 1)

    table = build_tables(benches, servers, results, bool(opts.cpus),
                         spread=opts.spread, wants=opts.wants)
    text = render_text(table, servers, env)
    print()
    print(text)
    md = render_markdown(table, servers, env)
    with open(os.path.join(outdir, "RESULTS.md"), "w") as f:
        f.write(md)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"env": env, "tables": table, "results": results}, f,
                  indent=1, default=str)
    dest = opts.results if opts.results is not None else (
        os.path.join(BENCH_DIR, "RESULTS.md") if full else "")
    if dest:
        with open(dest, "w") as f:
            f.write(md + kept_part(dest))
        print("wrote %s" % os.path.relpath(dest))
    print("results and logs: %s" % os.path.relpath(outdir))
    failed = any(not r["ok"] for b in results.values() for s in b.values()
                 for r in s["runs"] + ([s["probe"]] if s["probe"] else []))
    missed = any(not w["ok"] for w in table.get("wants", ()))
    return 1 if failed else 3 if missed else 0


# KEEP_MARK starts the part of bench/RESULTS.md that bench.py does not
# write: the packages' own benchmarks (go test -bench), each with the
# command that produced it.  A full run replaces what comes before it.
KEEP_MARK = "<!-- bench.py keeps what follows: package benchmarks -->"


def kept_part(path):
    """The part of path from KEEP_MARK on, with a blank line before it,
    or "" when the file or the mark is missing."""
    try:
        with open(path) as f:
            old = f.read()
    except OSError:
        return ""
    i = old.find(KEEP_MARK)
    return "" if i < 0 else "\n" + old[i:]


def judge(bench, params, run, probe=False):
    """A run's checks and figures.  A run with an error or a failed check
    gives no figures."""
    cks = []
    if run["error"]:
        cks.append(("run", False, run["error"]))
    cks += bench.check(run["records"], params, run)
    ok = all(c[1] for c in cks)
    figs = {}
    if ok:
        figs = (probe_figures if probe else figures)(bench, params, run)
    return {"ok": ok, "checks": cks, "figs": figs, "error": run["error"]}


def cell_status(r):
    if r["na"]:
        return "n/a"
    runs = r["runs"] + ([r["probe"]] if r["probe"] else [])
    bad = [x for x in runs if not x["ok"]]
    return "ok" if not bad else "FAIL %d/%d" % (len(bad), len(runs))


def others_running(samples=10, interval=0.05):
    """Runnable tasks besides this one, averaged over half a second."""
    vals = []
    for _ in range(samples):
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("procs_running"):
                    vals.append(int(line.split()[1]) - 1)
        time.sleep(interval)
    return sum(vals) / len(vals) if vals else 0.0


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------

# The per-event rows of a region, in the cost table's order: the suffix
# of the figure's key (and name), the row's text, its unit, and whether
# the ratio column means anything (the ceiling is already a ratio within
# one server's run).  "rt" comes from the one probe run.
COST_ROWS = (
    ("srv_us", "server CPU, us", "us", True),
    ("csw", "server context switches", "csw", True),
    ("vcsw", "server voluntary switches", "csw", True),
    ("nvcsw", "server nonvoluntary switches", "csw", True),
    ("rt", "RSP round trips (probe run)", "RTs", True),
    ("gdb_us", "gdb CPU, us", "us", True),
    ("inf_us", "inferior CPU, us", "us", True),
    ("ceiling", "gdb-bound ceiling (S+G+I)/(G+I)", "x", False),
)


class Figure:
    """A figure of every timed run of a benchmark, by name: key in the
    run's figures, unit, which way is better ("higher", "lower" or None)
    and whether a ratio between servers means anything."""
    def __init__(self, name, key, unit, better, label, ratio=True):
        self.name = name
        self.key = key
        self.unit = unit
        self.better = better
        self.label = label
        self.ratio = ratio


def region_keys(bench):
    """[(key prefix of the figures, name, label, event, unit, shown)] of
    bench's timed regions, and of multi's union of them ("all")."""
    out = [("r%d" % i, bench.name + ("." + reg.id if reg.id else ""),
            reg.label, reg.event, reg.unit, reg.shown)
           for i, reg in enumerate(bench.regions)]
    if bench.multi:
        out.append(("all", bench.name + ".all",
                    "multi: all three clients together", "event",
                    "events/s", "rate"))
    return out


def figure_names(bench):
    """bench's figures under the names that the spread table shows and
    --want takes.  BENCH.REGION is a region's user figure (REGION is left
    out when the benchmark has one region: stepi, bp, memread, ...;
    manythreads.bt_all, multi.watch, multi.all otherwise); with
    .srv_us, .csw, .vcsw, .nvcsw, .gdb_us, .inf_us or .ceiling after it,
    that row of its cost per event.  BENCH.rss is the peak RSS,
    connect.ready the start to `Listening on port`.  RSP round trips
    come from one probe run: they have no name.  The clients of multi
    have only their gdb CPU: the server's and the program's are those of
    multi.all."""
    figs = []
    if bench.name == "connect":
        figs.append(Figure("connect.ready", "ready_ms", "ms", "lower",
                           "server start to `Listening on port`"))
    for key, name, label, event, unit, shown in region_keys(bench):
        figs.append(Figure(name, key + ".user", unit,
                           "higher" if shown == "rate" else "lower", label))
        for k, what, u, has_ratio in COST_ROWS:
            if k != "rt" and (key == "all" or not bench.multi
                              or k == "gdb_us"):
                figs.append(Figure(
                    "%s.%s" % (name, k), "%s.%s" % (key, k),
                    u if k == "ceiling" else "%s/%s" % (u, event),
                    None if k == "ceiling" else "lower",
                    "%s: %s" % (label, what), has_ratio))
    figs.append(Figure(bench.name + ".rss", "rss_mib", "MiB", "lower",
                       "server peak RSS (VmHWM)"))
    return figs


def build_tables(benches, servers, results, pinned, spread=False,
                 wants=()):
    """The tables as lists of rows: user (the user's figures), cost (per
    event: one row per region and COST_ROWS entry), rss, and with spread
    the spread of every figure over the runs; wants are evaluated into
    "wants".  A cell is {"v": median or "FAIL" or "n/a", "spread":
    fraction or None}."""
    def cell(r, key, probe=False):
        if r["na"]:
            return {"v": "n/a"}
        runs = [r["probe"]] if probe else r["runs"]
        if probe and not r["probe"]:
            return {"v": None}
        if any(not x["ok"] for x in runs):
            return {"v": "FAIL"}
        vals = [x["figs"][key] for x in runs if key in x["figs"]]
        med, spread = summarize(vals)
        return {"v": med, "spread": spread}

    def shown(cells):
        return any(isinstance(c.get("v"), (int, float)) or c.get("v") ==
                   "FAIL" for c in cells.values())

    user, cost, rss, fails = [], [], [], []
    for b in benches:
        res = results[b.name]
        if b.name == "connect":
            user.append({"bench": b.name, "figure": "server start to "
                         "`Listening on port`", "unit": "ms",
                         "better": "lower", "name": "connect.ready",
                         "cells": {s.label: cell(res[s.label], "ready_ms")
                                   for s in servers}})
        for key, name, label, event, unit, kind in region_keys(b):
            user.append({"bench": b.name, "figure": label, "unit": unit,
                         "better": "higher" if kind == "rate"
                         else "lower", "name": name,
                         "cells": {s.label: cell(res[s.label], key + ".user")
                                   for s in servers}})
            for k, what, u, has_ratio in COST_ROWS:
                cells = {s.label: cell(res[s.label], "%s.%s" % (key, k),
                                       k == "rt") for s in servers}
                if not shown(cells):
                    continue    # e.g. the server CPU of one multi client
                cost.append({"bench": b.name, "figure": label,
                             "event": event, "row": what, "key": k,
                             "name": None if k == "rt"
                             else "%s.%s" % (name, k),
                             "better": None if k == "ceiling" else "lower",
                             "ratio": has_ratio, "spread": k != "rt",
                             "cells": cells})
        rss.append({"bench": b.name, "name": b.name + ".rss", "cells": {
            s.label: cell(res[s.label], "rss_mib") for s in servers}})
        for s in servers:
            r = res[s.label]
            for name, runs in (("run", r["runs"]),
                               ("probe run", [r["probe"]] if r["probe"]
                                else [])):
                seen = {}
                for x in runs:
                    for c in x["checks"]:
                        if not c[1]:
                            seen.setdefault((c[0], c[2]), 0)
                            seen[(c[0], c[2])] += 1
                for (ck, detail), k in seen.items():
                    fails.append({"bench": b.name, "server": s.label,
                                  "check": ck, "detail": detail,
                                  "count": "%d/%d %ss" % (k, len(runs),
                                                          name)})
    # The CPU of server + gdb + program over the wall time of a region:
    # pinned to one CPU it is 1.00, unless something else ran there.
    # The pinned CPU's idle share tells the two apart: an idle CPU means
    # everyone waited (a timer, a sleep); otherwise something else ran.
    noisy = []
    for b in benches if pinned else []:
        keys = (["all"] if b.multi else
                ["r%d" % i for i in range(len(b.regions))])
        labels = (["multi, all clients"] if b.multi else
                  [reg.label for reg in b.regions])
        for key, label in zip(keys, labels):
            for s in servers:
                r = results[b.name][s.label]
                v = cell(r, key + ".accounted")["v"]
                idle = cell(r, key + ".idle")["v"]
                if isinstance(v, float) and v < 0.9:
                    noisy.append("%s (%s): %.2f%s" % (
                        label, s.label, v,
                        ", CPU idle %.2f" % idle
                        if isinstance(idle, float) else ""))
    # A thread that exits inside a region takes its switches with it.
    gone = []
    for b in benches:
        for key, name, _, _, _, _ in region_keys(b):
            for s in servers:
                k = max((x["figs"].get(key + ".srv_threads_gone", 0)
                         for x in results[b.name][s.label]["runs"]),
                        default=0)
                if k:
                    gone.append("%s (%s): up to %d" % (name, s.label, k))
    out = {"user": user, "cost": cost, "rss": rss, "fails": fails,
           "noisy": noisy, "threads_gone": gone}
    if spread:
        out["spread"] = spread_rows(benches, servers, results)
    if wants:
        out["wants"] = [eval_want(w, servers, results) for w in wants]
    return out


# ---------------------------------------------------------------------------
# Spread over the runs, and --want
# ---------------------------------------------------------------------------

SPREAD_LIMIT = 0.10     # issue 15: ten runs within ±10% of their median


def spread_stats(vals, total):
    """{"median", "min", "max", "dev", "n", "of"} of a list of numbers;
    dev is the largest |v - median| / |median| (None when the median is
    0), n the values, of the runs they come from."""
    if not vals:
        return None
    med = statistics.median(vals)
    dev = (max(abs(v - med) for v in vals) / abs(med)) if med else None
    return {"median": med, "min": min(vals), "max": max(vals), "dev": dev,
            "n": len(vals), "of": total}


def run_values(r, key):
    """The figure key of each timed run of a server, None where the run
    failed or lacks it (a run whose checks fail has no figures)."""
    return [x["figs"].get(key) if isinstance(x["figs"].get(key),
                                             (int, float)) else None
            for x in r["runs"]]


def pair_ratios(ra, rb, key):
    """first/second of the figure key in each pair of runs (repetition i
    of either server; they ran one after the other), None where either
    run lacks it."""
    out = []
    for a, b in zip(run_values(ra, key), run_values(rb, key)):
        out.append(a / b if a is not None and b else None)
    return out


def spread_rows(benches, servers, results):
    """One row per named figure (figure_names) that any run has: per
    server spread_stats of its runs, and of the ratios of the paired
    runs of the first two servers."""
    rows = []
    for b in benches:
        res = results[b.name]
        for f in figure_names(b):
            cells = {}
            for s in servers:
                r = res[s.label]
                if r["na"]:
                    cells[s.label] = "n/a"
                    continue
                vals = run_values(r, f.key)
                cells[s.label] = spread_stats(
                    [v for v in vals if v is not None], len(vals))
            if not any(isinstance(c, dict) for c in cells.values()):
                continue
            rat = None
            if f.ratio and len(servers) > 1 and not any(
                    res[s.label]["na"] for s in servers[:2]):
                vals = pair_ratios(res[servers[0].label],
                                   res[servers[1].label], f.key)
                rat = spread_stats([v for v in vals if v is not None],
                                   len(vals))
            rows.append({"bench": b.name, "name": f.name, "unit": f.unit,
                         "better": f.better, "label": f.label,
                         "cells": cells, "ratio": rat})
    return rows


_WANT = re.compile(r"^\s*(?:([A-Za-z][\w-]*)\s*:)?\s*([\w.]+)\s*"
                   r"(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)"
                   r"(?:[eE][-+]?\d+)?)\s*$")
_OPS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}


def parse_wants(specs, benches, labels):
    """--want values (each may hold several, separated by commas) as
    [{"text", "server", "bench", "figure", "op", "value"}].  Raises
    ValueError with what is wrong and the names to choose from."""
    names = {f.name: (b, f) for b in benches for f in figure_names(b)}
    out = []
    for spec in specs:
        for text in (t for t in spec.split(",") if t.strip()):
            m = _WANT.match(text)
            if not m:
                raise ValueError(
                    "--want %r: want [SERVER:]FIGURE OP NUMBER, OP one of "
                    "<= < >= > (e.g. manythreads.bt_all<=0.9)" % text)
            server, name, op, value = m.groups()
            if server and server not in labels:
                raise ValueError("--want %r: no server %r in this run (%s)"
                                 % (text, server, ", ".join(labels)))
            if name not in names:
                bench = name.split(".")[0]
                known = [n for n, (b, _) in names.items()
                         if b.name == bench]
                raise ValueError(
                    "--want %r: no figure %r; %s" % (
                        text, name, "%s has %s" % (bench, " ".join(known))
                        if known else "the benchmarks chosen are " +
                        " ".join(b.name for b in benches)))
            b, f = names[name]
            if not server and not f.ratio:
                raise ValueError("--want %r: %s has no ratio; give a "
                                 "server (SERVER:%s)" % (text, name, name))
            out.append({"text": text.strip(), "server": server,
                        "bench": b.name, "figure": f, "op": op,
                        "value": float(value)})
    return out


def eval_want(w, servers, results):
    """How many runs (or pairs of runs) of w's figure met its threshold:
    {"want", "over", "met", "n", "median", "worst", "ok"}; ok is False
    unless every one did (a failed run does not)."""
    f, res = w["figure"], results[w["bench"]]
    row = {"want": w["text"], "met": None, "n": None, "median": None,
           "worst": None, "ok": False}
    labels = [s.label for s in servers]
    if w["server"]:
        r = res.get(w["server"])
        row["over"] = "%s runs" % w["server"]
        if r is None or r["na"]:
            row["over"] += ": n/a"
            return row
        vals = run_values(r, f.key)
    else:
        row["over"] = "%s/%s, paired runs" % tuple(labels[:2]) if len(
            labels) > 1 else "ratio"
        if len(labels) < 2 or res[labels[0]]["na"] or res[labels[1]]["na"]:
            row["over"] += ": n/a (two servers needed)"
            return row
        vals = pair_ratios(res[labels[0]], res[labels[1]], f.key)
    ok = _OPS[w["op"]]
    got = [v for v in vals if v is not None]
    row["met"] = sum(1 for v in got if ok(v, w["value"]))
    row["n"] = len(vals)
    if got:
        row["median"] = statistics.median(got)
        # the run farthest on the wrong side: the largest value for < and
        # <=, the smallest for > and >=
        row["worst"] = max(got) if w["op"][0] == "<" else min(got)
    row["ok"] = row["n"] > 0 and row["met"] == row["n"]
    return row


def show(c, spread=True):
    v = c.get("v")
    s = fmt(v)
    if spread and isinstance(v, (int, float)) and c.get("spread") is not None:
        s += " ±%.0f%%" % (100 * c["spread"] / 2)
    return s


def show_spread(st, f=None):
    """A spread cell: median [min..max] ±dev%, "!" past SPREAD_LIMIT,
    and how many runs gave it when not all did; f formats the numbers
    (default fmt)."""
    if not isinstance(st, dict):
        return st or "-"
    f = f or fmt
    s = "%s [%s..%s]" % (f(st["median"]), f(st["min"]), f(st["max"]))
    if st["dev"] is not None:
        s += " ±%.1f%%" % (100 * st["dev"])
        if st["dev"] > SPREAD_LIMIT:
            s += "!"
    if st["n"] < st["of"]:
        s += " (%d of %d)" % (st["n"], st["of"])
    return s


def ratio(cells, servers):
    if len(servers) < 2:
        return ""
    a, b = cells[servers[0].label].get("v"), cells[servers[1].label].get("v")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return "%.2f" % (a / b)
    return ""


def table_rows(table, servers):
    """The tables as (title, header, rows of strings, how many columns
    are left-aligned text)."""
    labels = [s.label for s in servers]
    rl = ["%s/%s" % (labels[0], labels[1])] if len(labels) > 1 else []
    arrow = {"higher": " ^", "lower": " v", None: ""}
    t1 = [(r["bench"], r["figure"], r["unit"] + arrow[r["better"]])
          + tuple(show(r["cells"][l]) for l in labels)
          + ((ratio(r["cells"], servers),) if rl else ())
          for r in table["user"]]
    hdr1 = ("bench", "figure", "unit") + tuple(labels) + tuple(rl)
    t2, prev = [], None
    for r in table["cost"]:
        head = (r["bench"], r["figure"], r["event"])
        row = ("", "", "") if head == prev else head
        prev = head
        row += (r["row"] + arrow[r["better"]],)
        row += tuple(show(r["cells"][l], r["spread"]) for l in labels)
        if rl:
            row += (ratio(r["cells"], servers) if r["ratio"] else "",)
        t2.append(row)
    hdr2 = ("bench", "figure", "per", "cost") + tuple(labels) + tuple(rl)
    t3 = [(r["bench"],) + tuple(show(r["cells"][l]) for l in labels)
          + ((ratio(r["cells"], servers),) if rl else ())
          for r in table["rss"]]
    hdr3 = ("bench",) + tuple(labels) + tuple(rl)
    out = [("Throughput as the user sees it (median ±half the spread; "
            "^ higher is better, v lower is better)", hdr1, t1, 3),
           ("Cost per event (median ±half the spread; v lower is better): "
            "the server's CPU and context switches (from "
            "/proc/PID/task/*/status, all its threads), RSP round trips "
            "(probe run), gdb and inferior CPU, and the gdb-bound ceiling "
            "(server+gdb+inferior)/(gdb+inferior), which has no ratio",
            hdr2, t2, 4),
           ("Server peak RSS (VmHWM), MiB", hdr3, t3, 1)]
    if "spread" in table:
        n = max((c["of"] for r in table["spread"]
                 for c in r["cells"].values() if isinstance(c, dict)),
                default=0)
        t4 = [(r["name"], r["unit"] + arrow[r["better"]])
              + tuple(show_spread(r["cells"][l]) for l in labels)
              + ((show_spread(r["ratio"], "%.3f".__mod__)
                  if r["ratio"] else "",)
                 if rl else ())
              for r in table["spread"]]
        hdr4 = ("figure", "unit") + tuple(labels) + tuple(
            "%s per pair" % x for x in rl)
        out.append(("Spread over %d runs: median [min..max] ±the largest "
                    "deviation from the median (! over %d%%); the ratio "
                    "column divides the two servers' runs of the same "
                    "repetition" % (n, 100 * SPREAD_LIMIT), hdr4, t4, 2))
    if table.get("wants"):
        t5 = [(w["want"], w["over"],
               "%d of %d" % (w["met"], w["n"]) if w["n"] is not None
               else "-", fmt(w["median"]), fmt(w["worst"]),
               "met" if w["ok"] else "MISSED")
              for w in table["wants"]]
        out.append(("Targets (--want): in how many runs the figure met the "
                    "threshold", ("want", "over", "met in", "median",
                                  "worst", "verdict"), t5, 2))
    return out


def render_text(table, servers, env):
    out = []
    for title, hdr, rows, _ in table_rows(table, servers):
        widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
        out.append(title + ":")
        out.append("  ".join(h.ljust(w) for h, w in zip(hdr, widths)))
        out.append("  ".join("-" * w for w in widths))
        for r in rows:
            out.append("  ".join(str(x).ljust(w) for x, w in zip(r, widths)))
        out.append("")
    out += notes(table, servers, env)
    return "\n".join(out)


def notes(table, servers, env):
    out = []
    if any(r["bench"] == "multi" for r in table["user"]):
        out.append("multi: the server and the program work for the three "
                   "clients at once, so their CPU and context switches are "
                   "given per event of all three (its last rows).")
    if any(r["cells"][s.label].get("v") == "n/a" for r in table["user"]
           for s in servers):
        out.append("n/a: the multi-client benchmark needs a server that "
                   "serves several clients at once; GNU gdbserver serves "
                   "one.")
    if table["fails"]:
        out.append("FAIL (a run whose checks fail gives no figures):")
        for f in table["fails"]:
            out.append("- %s, %s: %s: %s (%s)" % (
                f["bench"], f["server"], f["check"], f["detail"],
                f["count"]))
    else:
        out.append("All checks passed.")
    if table["noisy"]:
        out.append("Below 0.9: in these regions server + gdb + program "
                   "used less than 0.9 of the wall time on the pinned CPU. "
                   "Either the CPU idled (its idle share is given: "
                   "everyone was waiting) or something else ran there and "
                   "the rates are low by that much: "
                   + "; ".join(table["noisy"]) + ".")
    if table.get("threads_gone"):
        out.append("Context switches undercounted: server threads exited "
                   "inside these regions, and their switches left with "
                   "them: " + "; ".join(table["threads_gone"]) + ".")
    if table.get("wants"):
        missed = [w["want"] for w in table["wants"] if not w["ok"]]
        out.append("--want: %s." % (
            "every target met in every run" if not missed else
            "missed (exit status 3 unless a check failed): " +
            "; ".join(missed)))
    out.append("Total %.0f s." % env["total_s"])
    return out


def render_markdown(table, servers, env):
    out = ["# gdbserverx benchmarks", "",
           "Written by `bench/bench.py`; bench/README.md describes the "
           "method.", "",
           "- Date: %s" % env["date"],
           "- Command: `%s` (%d repetitions%s, pinned to CPU %s; total "
           "%.0f s)" % (env["command"], env["reps"],
                        ", quick sizes" if env["quick"] else "",
                        env["pinned_cpu"], env["total_s"]),
           "- Machine: %s; %s" % (env["cpu"], env["kernel"]),
           "- %s; %s" % (env["gdb"], env["gcc"]),
           "- Servers: %s" % "; ".join(
               "%s (%s)" % (k, v["version"])
               for k, v in env["servers"].items()),
           "- gdbserverx commit: %s" % env["commit"],
           "- Other runnable tasks at the start: %.1f (0 on a quiet "
           "machine)" % env["others_running"], ""]
    for title, hdr, rows, left in table_rows(table, servers):
        out.append("## " + title)
        out.append("")
        out.append("| " + " | ".join(hdr) + " |")
        out.append("|" + "|".join("---" if i < left else "---:"
                                  for i in range(len(hdr))) + "|")
        for r in rows:
            out.append("| " + " | ".join(str(x).replace("|", "\\|")
                                         for x in r) + " |")
        out.append("")
    for line in notes(table, servers, env):
        if not line.startswith("- ") and out[-1] != "":
            out.append("")      # a paragraph of its own
        out.append(line)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
