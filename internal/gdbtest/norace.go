//go:build !race

package gdbtest

const raceEnabled = false
