# bp_nonstop: bp.gdb with gdb in non-stop mode (set non-stop on): the
# same {n} stops, each a %Stop notification, vStopped and a vCont for one thread.
set non-stop on
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
