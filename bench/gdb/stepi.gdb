# stepi: `stepi {n}` in a straight loop.
set sysroot /
bench-connect
break bench_start
continue
delete
bench-time stepi stepi {n}
bench-func func
bench-done
kill
