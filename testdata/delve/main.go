// Command delve is the program TestDelve debugs through Delve's gdbserial
// backend: a function to break at, a global to read and a global to watch,
// and an exit status.
package main

import "os"

// counter is read at the breakpoint in work.
var counter = 40

// watched is written once, after work returns: a write watchpoint stops
// there.
var watched int

//go:noinline
func work(n int) int {
	counter += n
	return counter * 2
}

func main() {
	r := work(2)
	watched = r
	os.Exit(watched - 81)
}
