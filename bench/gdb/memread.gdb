# memread: `dump binary memory` of {size} bytes of a heap buffer.
set sysroot /
bench-connect
break bench_start
continue
delete
bench-time dump dump binary memory {tmp}/dump.bin buf buf+{size}
bench-done
kill
