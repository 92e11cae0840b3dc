package arbiter

import "testing"

// decodeOps turns fuzz input into operations, a few bytes each: the first
// byte of an operation picks its kind and owner, the next ones its
// arguments. Bytes run out gracefully (as zeros); the decoder never fails.
func decodeOps(data []byte, numSlots int) []op {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	var ops []op
	for len(data) > 0 && len(ops) < 1000 {
		b := next()
		o := (b >> 4) % genOwners
		switch kind := opKind(b&0x0f) % numOps; kind {
		case opInsert:
			x := next()
			width := 1 + x%genMaxWidth
			ps := make([]int, width)
			for i := range ps {
				ps[i] = 1 + next()%genPieces
			}
			ops = append(ops, op{kind: kind, o: o, k: (x >> 2) % genKeys, pieces: ps})
		case opRemove:
			ops = append(ops, op{kind: kind, o: o, k: next() % genKeys})
		case opLeave, opCommit:
			ops = append(ops, op{kind: kind, o: o})
		case opSetOwner:
			x := next()
			// Policy 3 is invalid on purpose: SetOwner must refuse it.
			ops = append(ops, op{kind: kind, o: o, cfg: OwnerConfig{
				Priority: x%(genMaxPrio+2) - 1, Policy: Policy(x >> 3 & 3), Pinned: x>>5&3 == 0,
			}})
		case opSetCapacity:
			ops = append(ops, op{kind: kind, n: next()%(numSlots+2) - 1})
		case opSetSlotUsable:
			x := next()
			ops = append(ops, op{kind: kind, n: x%(numSlots+2) - 1, ok: x&0x80 != 0})
		case opHit:
			ops = append(ops, op{kind: kind, n: next() % (numSlots + 1)})
		case opChurn:
			ops = append(ops, op{kind: kind, n: next()})
		}
	}
	return ops
}

// FuzzOps runs arbitrary operation sequences on the arbiter and the
// reference model: no panic, the same results, the invariants hold.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0x00, 0x00, 0x01, 0x06, 0x10, 0x04, 0x02, 0x06})
	f.Add([]byte{0x00, 0x05, 0x01, 0x02, 0x10, 0x09, 0x03, 0x04, 0x21, 0x0d, 0x05, 0x06, 0x06, 0x33, 0x28, 0x06, 0x08, 0x07})
	f.Add([]byte{0x03, 0x20, 0x00, 0x04, 0x05, 0x06, 0x04, 0x02, 0x06, 0x07, 0x01, 0x05, 0x81, 0x06, 0x12, 0x06})
	f.Fuzz(func(t *testing.T, data []byte) {
		numSlots := 4
		if len(data) > 0 {
			numSlots = int(data[0] % 6)
			data = data[1:]
		}
		h := newHarness(t, numSlots)
		for _, x := range decodeOps(data, numSlots) {
			h.do(x)
		}
		h.commit()
	})
}
