# cond: `break hit if i == {last}` over {n} calls, twice: the condition
# evaluated by the server (`set breakpoint condition-evaluation target`,
# gdb's default "auto" with a server that offers ConditionalBreakpoints),
# then by gdb (host), which costs a round trip per false hit.
set sysroot /
bench-connect
break bench_start
continue
delete
set breakpoint condition-evaluation target
bench-do break hit if i == {last}
bench-count-stops $bpnum
bench-time target continue
bench-stops stops_target
bench-val i_target i
delete
set breakpoint condition-evaluation host
bench-do break hit if i == {last}
bench-count-stops $bpnum
bench-time host continue
bench-stops stops_host
bench-val i_host i
bench-done
kill
