# connect_local: `target remote` after `set sysroot /`: no vFile transfers;
# left are the handshake, target description, threads, registers, auxv and
# the library list.
set sysroot /
bench-connect connect
bench-done
kill
