#!/usr/bin/env bash
# bench/delve.sh: Delve's dlv debugs testdata/delve through gdbserverx
# (README, "Clients", Delve), the session of TestDelveCLI, RUNS times in a
# row, with the default GODEBUG, and prints how many went through, how
# many stops for SIGURG Delve was told, and the time.
#
#   bench/delve.sh [-n RUNS] [-s GDBSERVERX] [--no-pass]
#
# -n RUNS          sessions (default 20), each allowed 60 s
# -s GDBSERVERX    a gdbserverx binary (default: built from this tree);
#                  an older one, which does not read lldb-server's
#                  command line, works too: the wrapper translates it
# --no-pass        without --pass-signals SIGURG
#
# Needs dlv (go install github.com/go-delve/delve/cmd/dlv@<go.mod's
# version>; .ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=20 server= pass="--pass-signals SIGURG"
while [ $# -gt 0 ]; do
	case $1 in
	-n) runs=$2; shift 2 ;;
	-s) server=$(realpath "$2"); shift 2 ;;
	--no-pass) pass=; shift ;;
	*) echo "usage: $0 [-n RUNS] [-s GDBSERVERX] [--no-pass]" >&2; exit 2 ;;
	esac
done
command -v dlv >/dev/null || export PATH=$(go env GOPATH)/bin:$PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$server" ]; then
	go build -o "$tmp/gdbserverx" ./cmd/gdbserverx
	server=$tmp/gdbserverx
fi
go build -gcflags=all='-N -l' -o "$tmp/delveprog" ./testdata/delve
mkdir "$tmp/bin"
# lldb-server gdbserver [HOST]:PORT -- PROG ARGS, in gdbserver's words.
cat >"$tmp/bin/lldb-server" <<END
#!/bin/sh
[ "\$1" = gdbserver ] || exit 2
comm=\$2; shift 2; [ "\$1" = -- ] && shift
exec "$server" --once $pass --remote-debug "\$comm" "\$@" 2>>"$tmp/server.log"
END
chmod +x "$tmp/bin/lldb-server"
script='break main.work
continue
print counter
next
step
print n
goroutines
stack
clearall
watch -w main.watched
continue
print main.watched
clearall
continue
exit
'
failed=0 urg=0
start=$(date +%s.%N)
for i in $(seq "$runs"); do
	rm -f "$tmp/server.log"
	out=$(printf '%s' "$script" | PATH="$tmp/bin:$PATH" TERM=dumb GODEBUG= DELVE_DEBUGSERVER_PATH= \
		timeout 60 dlv --backend=lldb exec "$tmp/delveprog" --allow-non-terminal-interactive=true 2>&1) || true
	if ! grep -q 'has exited with status 3' <<<"$out"; then
		failed=$((failed + 1))
		echo "session $i did not go through"
	fi
	# Stops for SIGURG (GDB's 0x10) in answer to a resume.
	n=$(grep -A1 'getpkt ("vCont' "$tmp/server.log" | grep -c 'putpkt ("T10' || true)
	urg=$((urg + n))
done
end=$(date +%s.%N)
printf 'sessions %d, through %d, SIGURG stops told to Delve %d, %s s\n' \
	"$runs" $((runs - failed)) "$urg" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
