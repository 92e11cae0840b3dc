# multi, the stepping client: `stepi {steps}` in thread B's spin loop, then
# it lets B end.
set sysroot /
bench-connect
break spin_b
set var ready_s = 1
continue
delete
bench-val counter0 counter_b
bench-time steps stepi {steps}
bench-val counter1 counter_b
bench-func func
set var b_done = 1
bench-done
detach
