// Command delve is the program the Delve tests debug through Delve's
// gdbserial backend: a function to break at and step through, a global
// to read and one to watch, goroutines that compute while main runs (the
// Go runtime preempts them with SIGURG, asynchronous preemption of the
// default GODEBUG), and an exit status.
package main

import (
	"os"
	"sync"
)

// counter is read at the breakpoint in work.
var counter = 40

// watched is written once, after work returns: a write watchpoint stops
// there.
var watched int

// results are the spinners'.
var results [4]int

// spin computes long enough (tens of milliseconds) to be preempted.
//
//go:noinline
func spin(id int) int {
	x := id
	for i := 0; i < 20_000_000; i++ {
		x = x*31 + i
	}
	return x
}

//go:noinline
func work(n int) int {
	counter += n
	return counter * 2
}

func main() {
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = spin(i)
		}()
	}
	r := work(2)
	watched = r
	wg.Wait()
	os.Exit(watched - 81)
}
