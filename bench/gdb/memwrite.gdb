# memwrite: `restore` of a {size}-byte file into a heap buffer; the program
# then checks every byte and leaves the number of wrong ones in bad.
set sysroot /
bench-connect
break bench_start
continue
delete
bench-time restore restore {pattern} binary (long)buf
tbreak verified
continue
bench-val bad bad
bench-done
kill
