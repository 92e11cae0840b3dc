# multi, the watching client: `watch g` over main's {n} writes.
set sysroot /
bench-connect
break bench_start
set var ready_w = 1
continue
delete
watch g
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
detach
