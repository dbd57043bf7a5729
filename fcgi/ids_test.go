package fcgi

import (
	"maps"
	"math/rand/v2"
	"testing"
)

// TestIDMapAgreesWithMap drives an idMap and a plain map with the same
// random operations, on low and high ids, and compares them after each.
func TestIDMapAgreesWithMap(t *testing.T) {
	var m idMap[*int]
	want := map[uint16]*int{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var id uint16
		switch rng.IntN(3) {
		case 0:
			id = uint16(rng.IntN(16))
		case 1:
			id = uint16(rng.IntN(2 * lowIDs))
		default:
			id = uint16(rng.IntN(65536))
		}
		if rng.IntN(2) == 0 {
			v := new(int)
			*v = i
			m.set(id, v)
			want[id] = v
		} else {
			m.delete(id)
			delete(want, id)
		}
		if got := m.get(id); got != want[id] {
			t.Fatalf("step %d: get(%d) = %v, want %v", i, id, got, want[id])
		}
		if m.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", i, m.len(), len(want))
		}
	}
	if len(m.low) > lowIDs {
		t.Errorf("low slice grew to %d entries, beyond %d", len(m.low), lowIDs)
	}
	got := maps.Collect(m.all())
	if !maps.Equal(got, want) {
		t.Errorf("all() yields %d entries, want %d, or they differ", len(got), len(want))
	}
	for id := range m.all() {
		m.delete(id)
	}
	if m.len() != 0 || m.get(0) != nil {
		t.Errorf("after deleting all it yields: len %d", m.len())
	}
}
