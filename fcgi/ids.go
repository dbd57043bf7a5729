// idMap: the requests of one connection by request id, for both sides.

package fcgi

import "iter"

// lowIDs is how many of the lowest request ids an idMap keeps in a slice.
// Clients pick the lowest free id (php-fpm's nginx, Caddy, ours), so the ids
// in use are almost always below it.
const lowIDs = 256

// idMap maps request ids to values: the low ids by index into a slice grown
// as needed, the others in a map made when first needed. Looking up a
// record's request, several times per request, then hashes nothing. The
// zero value is empty and ready; a zero V stands for absent.
type idMap[V comparable] struct {
	low  []V
	high map[uint16]V
	n    int
}

func (m *idMap[V]) get(id uint16) V {
	if int(id) < len(m.low) {
		return m.low[id]
	}
	if id < lowIDs || m.high == nil {
		var zero V
		return zero
	}
	return m.high[id]
}

// set maps id to v, which must not be the zero V.
func (m *idMap[V]) set(id uint16, v V) {
	var zero V
	if id < lowIDs {
		if int(id) >= len(m.low) {
			n := min(max(int(id)+1, 2*len(m.low), 8), lowIDs)
			m.low = append(m.low, make([]V, n-len(m.low))...)
		}
		if m.low[id] == zero {
			m.n++
		}
		m.low[id] = v
		return
	}
	if m.high == nil {
		m.high = make(map[uint16]V)
	}
	if _, ok := m.high[id]; !ok {
		m.n++
	}
	m.high[id] = v
}

func (m *idMap[V]) delete(id uint16) {
	var zero V
	if int(id) < len(m.low) {
		if m.low[id] != zero {
			m.low[id] = zero
			m.n--
		}
		return
	}
	if _, ok := m.high[id]; ok {
		delete(m.high, id)
		m.n--
	}
}

func (m *idMap[V]) len() int { return m.n }

// all yields the ids present and their values, low ids in order first. The
// loop may delete what it is given.
func (m *idMap[V]) all() iter.Seq2[uint16, V] {
	return func(yield func(uint16, V) bool) {
		var zero V
		for id, v := range m.low {
			if v != zero && !yield(uint16(id), v) {
				return
			}
		}
		for id, v := range m.high {
			if !yield(id, v) {
				return
			}
		}
	}
}
