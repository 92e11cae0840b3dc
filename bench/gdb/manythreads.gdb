# manythreads: {t} threads parked {d}+1 frames deep; main stopped {d}+2
# frames deep.  `bt` of the main thread and `info threads`; then, after a
# resume (so that gdb's register and stack caches start empty again),
# `thread apply all bt`.
set sysroot /
bench-connect
break bench_start
continue
delete
bench-time bt bt
bench-time info_threads info threads
tbreak bench_end
continue
bench-time bt_all thread apply all bt
bench-done
kill
