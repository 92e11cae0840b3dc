# threads: `watch g` set when {half} threads exist; {half} more are created
# after it; each of the {t} threads writes g {k} times.
set sysroot /
bench-connect
break bench_start
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
kill
