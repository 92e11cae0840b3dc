# multi, the polling client: at each poll_point() call (every {k} writes),
# read seq and {bytes} bytes of buf.
set sysroot /
bench-connect
break bench_start
set var ready_m = 1
continue
delete
break poll_point
commands
silent
bench-poll
continue
end
tbreak bench_end
bench-time loop continue
bench-polls polls
bench-done
detach
