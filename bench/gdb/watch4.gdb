# watch4: four `watch`es, on w0..w3 (8-byte-aligned longs), each written
# {n} times: four debug registers in use, {n}*4 hits.
set sysroot /
bench-connect
break bench_start
continue
delete
watch w0
commands
silent
continue
end
watch w1
commands
silent
continue
end
watch w2
commands
silent
continue
end
watch w3
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
