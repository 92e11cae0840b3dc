#!/bin/sh
# gdb-swwatch.sh: the issue's benchmark (swwatch/testdata/bench.c) under
# gdb's own software watchpoint (set can-use-hw-watchpoints 0) through
# GNU gdbserver, for the comparison with the engine (BenchmarkLoop).
# gdb single-steps every instruction, so the loop is shortened (ITERS,
# default 2000 iterations of about 12 instructions) with the same density
# of writes (WRITES, default 200 per 100000 iterations), and the time is
# scaled to BenchmarkLoop's 100000 iterations.
#
#   MODE=alone ITERS=2000 swwatch/scripts/gdb-swwatch.sh
#
# Prints: mode, iterations, hits seen by gdb, seconds for the region
# bench_start..bench_end, and the seconds scaled to 100000 iterations.
# Pin it as the engine's benchmark was (taskset -c N) for a fair ratio.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
MODE=${MODE:-alone}
ITERS=${ITERS:-2000}
WRITES=${WRITES:-$(( ITERS * 200 / 100000 > 0 ? ITERS * 200 / 100000 : 1 ))}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; true' EXIT
gcc -O1 -g -no-pie -o "$tmp/bench" "$here/../testdata/bench.c"
var=alone.g
[ "$MODE" = shared ] && var=shared.g
gdbserver --once 127.0.0.1:0 "$tmp/bench" "$MODE" "$ITERS" "$WRITES" >"$tmp/out" 2>"$tmp/srv" &
srv=$!
port=
for _ in $(seq 200); do
	port=$(sed -n 's/^Listening on port \([0-9]*\)$/\1/p' "$tmp/srv")
	[ -n "$port" ] && break
	# Wait for gdbserver's own line; the read blocks until it grows.
	timeout 0.05 tail -f "$tmp/srv" >/dev/null 2>&1 || true
done
[ -n "$port" ] || { echo "gdbserver did not listen" >&2; exit 1; }
cat >"$tmp/cmds.gdb" <<GDB
set pagination off
set confirm off
set sysroot /
target remote 127.0.0.1:$port
break bench_start
continue
delete
set can-use-hw-watchpoints 0
watch $var
python
import gdb, time
hits = [0]
def on_stop(ev):
    if isinstance(ev, gdb.BreakpointEvent) and any(b.type == gdb.BP_WATCHPOINT for b in ev.breakpoints):
        hits[0] += 1
gdb.events.stop.connect(on_stop)
end
commands 2
silent
continue
end
tbreak bench_end
python t0 = time.monotonic()
continue
python
dt = time.monotonic() - t0
print("RESULT mode=$MODE iters=$ITERS hits=%d seconds=%.3f scaled100k=%.1f" % (hits[0], dt, dt * 100000 / $ITERS))
end
kill
GDB
gdb -batch -nx -x "$tmp/cmds.gdb" "$tmp/bench" 2>&1 | grep -E '^RESULT|^Watchpoint|^Hardware watchpoint'
