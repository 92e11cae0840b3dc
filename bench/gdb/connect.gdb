# connect: `target remote` with gdb's default sysroot ("target:"), so gdb
# reads ld.so and libc from the server over vFile, as a user's first
# connect does.
bench-connect connect
bench-done
kill
