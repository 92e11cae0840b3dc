# bp: a breakpoint on hit() with `silent; continue`, called {n} times.
set sysroot /
bench-connect
break bench_start
continue
delete
break hit
commands
silent
continue
end
bench-count-stops $bpnum
tbreak bench_end
bench-time loop continue
bench-stops stops
bench-done
kill
