// Params side by side: two lists of params (two web servers' for one
// request, say) aligned by name, with what differs marked.

package session

// ParamDiffKind says how a param compares between two lists.
type ParamDiffKind int

// Kinds of ParamDiff rows.
const (
	ParamSame      ParamDiffKind = iota // on both sides, same value, same relative order
	ParamMoved                          // same value, but out of order relative to the others
	ParamChanged                        // on both sides, different values
	ParamLeftOnly                       // only on the left
	ParamRightOnly                      // only on the right
)

// String names the kind.
func (k ParamDiffKind) String() string {
	switch k {
	case ParamSame:
		return "same"
	case ParamMoved:
		return "moved"
	case ParamChanged:
		return "changed"
	case ParamLeftOnly:
		return "left only"
	case ParamRightOnly:
		return "right only"
	}
	return "unknown"
}

// ParamDiff is one row: a param on either side or both, with its position
// in each list (1-based; 0 where it is absent).
type ParamDiff struct {
	Kind              ParamDiffKind
	Name              string
	Left, Right       string // values
	LeftPos, RightPos int
}

// DiffParams aligns a and b by name (the nth param of a name on the left
// with the nth of that name on the right) and returns one row per param:
// the left's in its order, each right-only param after the row of the
// right-side param before it. A param on both sides with the same value is
// ParamMoved when it is not in the longest run of params the two lists
// share in the same order.
func DiffParams(a, b Params) []ParamDiff {
	type key struct {
		name string
		n    int
	}
	at := make(map[key]int, len(b))
	seen := map[string]int{}
	for j, p := range b {
		at[key{p.Name, seen[p.Name]}] = j
		seen[p.Name]++
	}
	clear(seen)
	match := make([]int, len(a)) // index in b, or -1
	used := make([]bool, len(b))
	for i, p := range a {
		match[i] = -1
		if j, ok := at[key{p.Name, seen[p.Name]}]; ok {
			match[i], used[j] = j, true
		}
		seen[p.Name]++
	}
	inOrder := increasingRun(match)
	var rows []ParamDiff
	for i, p := range a {
		r := ParamDiff{Kind: ParamLeftOnly, Name: p.Name, Left: p.Value, LeftPos: i + 1}
		if j := match[i]; j >= 0 {
			r.Right, r.RightPos = b[j].Value, j+1
			switch {
			case b[j].Value != p.Value:
				r.Kind = ParamChanged
			case inOrder[i]:
				r.Kind = ParamSame
			default:
				r.Kind = ParamMoved
			}
		}
		rows = append(rows, r)
	}
	for j, p := range b {
		if used[j] {
			continue
		}
		// After the last row holding a right-side param that precedes it.
		at := 0
		for k, r := range rows {
			if r.RightPos > 0 && r.RightPos < j+1 {
				at = k + 1
			}
		}
		rows = append(rows[:at], append([]ParamDiff{{Kind: ParamRightOnly, Name: p.Name, Right: p.Value, RightPos: j + 1}}, rows[at:]...)...)
	}
	return rows
}

// increasingRun marks the entries of a longest strictly increasing
// subsequence of seq, ignoring negative entries.
func increasingRun(seq []int) []bool {
	n := len(seq)
	length, prev := make([]int, n), make([]int, n)
	best := -1
	for i := range seq {
		prev[i] = -1
		if seq[i] < 0 {
			continue
		}
		length[i] = 1
		for k := 0; k < i; k++ {
			if seq[k] >= 0 && seq[k] < seq[i] && length[k]+1 > length[i] {
				length[i], prev[i] = length[k]+1, k
			}
		}
		if best < 0 || length[i] > length[best] {
			best = i
		}
	}
	out := make([]bool, n)
	for i := best; i >= 0; i = prev[i] {
		out[i] = true
	}
	return out
}
