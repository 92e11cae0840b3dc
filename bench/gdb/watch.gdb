# watch, rwatch, awatch: `{wcmd} g` with `silent; continue` over a loop
# that writes (watch, awatch) or reads (rwatch) g {n} times.
set sysroot /
bench-connect
break bench_start
continue
delete
bench-do {wcmd} g
commands
silent
continue
end
bench-count-stops watch
bench-types types
tbreak bench_end
bench-time loop continue
bench-stops stops
bench-done
kill
