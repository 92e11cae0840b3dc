#!/bin/sh
# The soak of issue 13 (cmd/gdbserverx/soak_test.go), gdbserverx beside GNU
# gdbserver: 1000 connections of four kinds (a gdb-like session that
# detaches, a socket closed mid-packet, a socket closed while the program
# runs with watchpoints, a client reset as if killed; every 25th of the
# first and last a real gdb) on one gdbserverx with a second client that
# stays and keeps working, then the same connections on GNU gdbserver, one
# kind at a time. Prints the tables of RSS, descriptors, goroutines,
# clients and slots at 0, 10, 250, 500, 750 and 1000 connections.
#
#   bench/soak.sh                      # about a minute
#   GDBSERVERX_SOAK=200 bench/soak.sh  # fewer connections
set -eu
cd "$(dirname "$0")/.."
GDBSERVERX_SOAK_GNU=1 exec go test -count=1 -run '^TestSoak$' -v ./cmd/gdbserverx "$@"
