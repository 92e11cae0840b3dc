package arbiter

import (
	"fmt"
	"testing"
)

// Types shaped like the server's: a client number, a request (kind,
// address, length) and an hwbp-like piece.
type (
	benchKey struct {
		Kind uint8
		Addr uint64
		Len  uint64
	}
	benchPiece struct {
		Addr uint64
		Len  uint8
		Cond uint8
	}
	benchArbiter = Arbiter[int, benchKey, benchPiece]
)

const benchOwners = 8

func benchPoint(i int) (benchKey, benchPiece) {
	addr := 0x404000 + uint64(i)*8
	return benchKey{Kind: 2, Addr: addr, Len: 8}, benchPiece{Addr: addr, Len: 8, Cond: 1}
}

// benchSetup returns an arbiter of 4 slots holding n one-piece debugpoints
// spread over 8 owners of priorities 0, 10, 20 and 30.
func benchSetup(b *testing.B, n int) *benchArbiter {
	b.Helper()
	a := New[int, benchKey, benchPiece](4)
	for o := range benchOwners {
		if err := a.SetOwner(o, OwnerConfig{Priority: o % 4 * 10}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		k, p := benchPoint(i)
		if err := a.Insert(i%benchOwners, k, p); err != nil {
			b.Fatal(err)
		}
	}
	a.Commit()
	return a
}

var benchSizes = []int{10, 100, 1000, 10000}

// BenchmarkCommit measures one commit of one insert or one remove
// (alternately, so the size stays put) among n debugpoints of 8 owners.
// "low": the debugpoint is of the lowest priority, so it is emulated;
// "top": of a priority above all, so it evicts, and its removal
// reinstalls.
func BenchmarkCommit(b *testing.B) {
	for _, where := range []struct {
		name  string
		owner int
		prio  int
	}{{"low", 100, -1}, {"top", 101, 99}} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/n=%d", where.name, n), func(b *testing.B) {
				a := benchSetup(b, n)
				if err := a.SetOwner(where.owner, OwnerConfig{Priority: where.prio}); err != nil {
					b.Fatal(err)
				}
				a.Commit()
				k, p := benchPoint(n + 1)
				i := 0
				for b.Loop() {
					if i%2 == 0 {
						_ = a.Insert(where.owner, k, p)
					} else {
						a.Remove(where.owner, k)
					}
					i++
					if len(a.Commit()) == 0 {
						b.Fatal("no event")
					}
				}
			})
		}
	}
}

// BenchmarkChurn measures gdb's stop: remove its 4 debugpoints, insert
// them again, commit (no change). "alone": gdb's 4 debugpoints only;
// "n=1000": beside 1,000 debugpoints of 8 other owners.
func BenchmarkChurn(b *testing.B) {
	for _, n := range []int{0, 1000} {
		name := "alone"
		if n > 0 {
			name = fmt.Sprintf("n=%d", n)
		}
		b.Run(name, func(b *testing.B) {
			a := benchSetup(b, n)
			const gdb = 100
			if err := a.SetOwner(gdb, OwnerConfig{Priority: 50}); err != nil {
				b.Fatal(err)
			}
			var keys [4]benchKey
			var pieces [4]benchPiece
			for i := range keys {
				keys[i], pieces[i] = benchPoint(n + 1 + i)
				_ = a.Insert(gdb, keys[i], pieces[i])
			}
			a.Commit()
			for b.Loop() {
				for i := range keys {
					a.Remove(gdb, keys[i])
				}
				for i := range keys {
					_ = a.Insert(gdb, keys[i], pieces[i])
				}
				if len(a.Commit()) != 0 {
					b.Fatal("churn emitted events")
				}
			}
		})
	}
}

// degenerate builds the tables where the walk in rank order cannot stop
// early: the slots never fill, because n debugpoints share one piece
// ("shared"), or because a 3-piece debugpoint on top leaves one slot that
// n 2-piece debugpoints cannot use ("wide").
func degenerate(shape string, n int) *benchArbiter {
	a := New[int, benchKey, benchPiece](4)
	for o := range benchOwners {
		_ = a.SetOwner(o, OwnerConfig{Priority: o % 4 * 10})
	}
	_ = a.SetOwner(99, OwnerConfig{Priority: 99})
	if shape == "wide" {
		_ = a.Insert(99, benchKey{}, benchPiece{Addr: 1}, benchPiece{Addr: 2}, benchPiece{Addr: 3})
	}
	for i := range n {
		k, p := benchPoint(i)
		if shape == "shared" {
			_ = a.Insert(i%benchOwners, k, benchPiece{Addr: 1})
		} else {
			_ = a.Insert(i%benchOwners, k, p, benchPiece{Addr: p.Addr + 8})
		}
	}
	a.Commit()
	return a
}

// BenchmarkDegenerate measures the degenerate tables (see degenerate):
// one commit of one insert or remove, as in BenchmarkCommit. The fast
// commit (fast.go) serves them without a walk.
func BenchmarkDegenerate(b *testing.B) {
	for _, shape := range []string{"shared", "wide"} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/n=%d", shape, n), func(b *testing.B) {
				a := degenerate(shape, n)
				k, p := benchPoint(n + 1)
				i := 0
				for b.Loop() {
					if i%2 == 0 {
						_ = a.Insert(0, k, p)
					} else {
						a.Remove(0, k)
					}
					i++
					a.Commit()
				}
			})
		}
	}
}
