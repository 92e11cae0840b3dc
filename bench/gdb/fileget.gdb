# fileget: `remote get` of a {size}-byte file: vFile:pread in sequence,
# gdb asking for a packet's worth each time.
bench-connect
bench-time get remote get {pattern} {tmp}/got.bin
bench-done
kill
