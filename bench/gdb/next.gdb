# next: `next {n}` in a straight loop (gdb range-steps each line: vCont;r).
set sysroot /
bench-connect
break bench_start
continue
delete
bench-time next next {n}
bench-func func
bench-done
kill
