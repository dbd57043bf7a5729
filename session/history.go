// History: every sent Exchange kept on disk, one Exchange file each, with an
// index for fast listing, bounded by count and size.

package session

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"fcgiscope/fcgi"
)

// File and folder names under the user's configuration directory.
const (
	AppDirName     = "fcgiscope" // os.UserConfigDir()/fcgiscope
	HistoryDirName = "history"   // os.UserConfigDir()/fcgiscope/history
	PresetsDirName = "presets"   // os.UserConfigDir()/fcgiscope/presets
)

// History file names and format.
const (
	historyIndexName = "index.json"
	historyFileExt   = ".json"
	historyFormat    = 1
	// historyStderrIndexed is how much stderr the index keeps for
	// filtering; a longer stderr is searched in its file.
	historyStderrIndexed = 16 << 10
)

// Default history limits.
const (
	DefaultHistoryEntries = 1000
	DefaultHistoryBytes   = 256 << 20
)

// DefaultHistoryDir returns os.UserConfigDir()/fcgiscope/history.
func DefaultHistoryDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("session: history folder: %w", err)
	}
	return filepath.Join(d, AppDirName, HistoryDirName), nil
}

// HistoryLimits bound the history; past either one the oldest entries are
// deleted. The newest entry is always kept, even alone above MaxBytes.
type HistoryLimits struct {
	// MaxEntries: 0 means DefaultHistoryEntries, a negative value no limit.
	MaxEntries int
	// MaxBytes bounds the total size of the Exchange files: 0 means
	// DefaultHistoryBytes, a negative value no limit.
	MaxBytes int64
}

func (l HistoryLimits) entries() int {
	if l.MaxEntries == 0 {
		return DefaultHistoryEntries
	}
	return l.MaxEntries
}

func (l HistoryLimits) bytes() int64 {
	if l.MaxBytes == 0 {
		return DefaultHistoryBytes
	}
	return l.MaxBytes
}

// HistoryEntry describes one stored Exchange, as the history list shows it.
type HistoryEntry struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"` // when the exchange started (UTC)
	Target string    `json:"target"`
	Role   fcgi.Role `json:"role"`
	// Method and URL come from the params sent (REQUEST_METHOD,
	// REQUEST_URI or SCRIPT_NAME); empty when not set.
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"`
	// Status is the HTTP status of the parsed response, 0 if none.
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Error is the error that ended the exchange, "" if none.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
	// Size is the size of the Exchange file in bytes.
	Size int64 `json:"size"`
}

// historyItem is an index entry: the entry plus the text filters search.
type historyItem struct {
	HistoryEntry
	Params string `json:"params"` // NAME=VALUE lines
	Stderr string `json:"stderr"` // the first historyStderrIndexed bytes
	// StderrCut: Stderr holds only the start; the file has the rest.
	StderrCut bool `json:"stderr_cut,omitempty"`
}

// historyIndex is the content of index.json.
type historyIndex struct {
	Format  int           `json:"format"`
	Entries []historyItem `json:"entries"`
}

// History is the list of sent exchanges, kept in a folder: one Exchange file
// (see SaveExchangeFile) per exchange, named after its id, and index.json,
// which only speeds up listing: when it is missing, corrupt or out of date it
// is rebuilt from the files. A corrupt Exchange file is reported (Problems)
// and skipped, never deleted or overwritten. It is safe for concurrent use.
type History struct {
	dir string

	// shown is a copy of limits that Limits reads without waiting for a
	// write in progress (a window calls it on its UI goroutine).
	shown atomic.Pointer[HistoryLimits]

	mu       sync.Mutex // guards the files and the fields below
	limits   HistoryLimits
	items    []historyItem // oldest first
	problems []error
}

// OpenHistory opens (creating it if needed) the history in dir; "" means
// DefaultHistoryDir. It reconciles the index with the files, reporting
// corrupt ones in Problems, and applies limits.
func OpenHistory(dir string, limits HistoryLimits) (*History, error) {
	if dir == "" {
		d, err := DefaultHistoryDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session: history: %w", err)
	}
	h := &History{dir: dir, limits: limits}
	h.shown.Store(&limits)
	if err := h.load(); err != nil {
		return nil, err
	}
	return h, nil
}

// Dir returns the history folder.
func (h *History) Dir() string { return h.dir }

// Problems returns what was wrong when the history was opened: corrupt
// Exchange files (skipped, left on disk) and a corrupt index (rebuilt).
func (h *History) Problems() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.problems)
}

// load reads the index and reconciles it with the folder.
func (h *History) load() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	indexPath := filepath.Join(h.dir, historyIndexName)
	known := map[string]historyItem{}
	dirty := false
	switch b, err := os.ReadFile(indexPath); {
	case errors.Is(err, fs.ErrNotExist):
		dirty = true
	case err != nil:
		return fmt.Errorf("session: history: %w", err)
	default:
		var idx historyIndex
		if err := json.Unmarshal(b, &idx); err != nil || idx.Format != historyFormat {
			if err == nil {
				err = fmt.Errorf("format %d, want %d", idx.Format, historyFormat)
			}
			h.problems = append(h.problems, fmt.Errorf("session: history index %s is corrupt, rebuilt from the exchange files: %w", indexPath, err))
			dirty = true
		}
		for _, it := range idx.Entries {
			known[it.ID] = it
		}
	}

	des, err := os.ReadDir(h.dir)
	if err != nil {
		return fmt.Errorf("session: history: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		id, ok := strings.CutSuffix(name, historyFileExt)
		if !ok || name == historyIndexName || IsTempName(name) || !de.Type().IsRegular() || !validHistoryID(id) {
			continue
		}
		info, err := de.Info()
		if err != nil {
			h.problems = append(h.problems, fmt.Errorf("session: history: %w", err))
			continue
		}
		if it, ok := known[id]; ok && it.Size == info.Size() {
			h.items = append(h.items, it)
			delete(known, id)
			continue
		}
		dirty = true
		delete(known, id)
		path := filepath.Join(h.dir, name)
		x, err := LoadExchangeFile(path)
		if err != nil {
			h.problems = append(h.problems, fmt.Errorf("session: history entry skipped: %w", err))
			continue
		}
		h.items = append(h.items, newHistoryItem(id, x, info.Size()))
	}
	if len(known) > 0 {
		dirty = true // entries whose file is gone
	}
	sortHistory(h.items)
	evicted, err := h.evictLocked()
	if err != nil {
		return err
	}
	if dirty || evicted {
		return h.writeIndexLocked()
	}
	return nil
}

func sortHistory(items []historyItem) {
	slices.SortStableFunc(items, func(a, b historyItem) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// newHistoryItem summarizes x for the index.
func newHistoryItem(id string, x *Exchange, size int64) historyItem {
	params := x.Params()
	it := historyItem{HistoryEntry: HistoryEntry{
		ID: id, Time: x.Start(), Target: x.Target(), Role: x.Role(),
		Error: x.ErrorText(), Duration: x.Timings().Total, Size: size,
	}}
	it.Method, _ = params.Get("REQUEST_METHOD")
	if u, ok := params.Get("REQUEST_URI"); ok {
		it.URL = u
	} else {
		it.URL, _ = params.Get("SCRIPT_NAME")
	}
	if r := x.Response(); r != nil {
		it.Status, it.Reason = r.Status, r.Reason
	}
	var b strings.Builder
	for _, p := range params {
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(p.Value)
		b.WriteByte('\n')
	}
	it.Params = b.String()
	stderr := x.Stderr()
	if len(stderr) > historyStderrIndexed {
		cut := historyStderrIndexed
		for cut > 0 && !utf8.RuneStart(stderr[cut]) {
			cut--
		}
		stderr, it.StderrCut = stderr[:cut], true
	}
	it.Stderr = string(stderr)
	return it
}

// historyID returns a new id: the start time, sortable, and a random suffix.
func historyID(t time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return t.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r[:])
}

// validHistoryID accepts the ids historyID makes (and nothing that could
// leave the folder).
func validHistoryID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '.') {
			return false
		}
	}
	return !strings.HasPrefix(id, ".")
}

func (h *History) path(id string) string { return filepath.Join(h.dir, id+historyFileExt) }

// Add stores x, a finished Exchange, then deletes the oldest entries above
// the limits. It returns the new entry's id. When the Exchange file was
// written but the index could not be, the id comes back with the error: the
// entry is stored and the next OpenHistory indexes it.
func (h *History) Add(x *Exchange) (string, error) {
	data, err := EncodeExchangeFile(x, true)
	if err != nil {
		return "", fmt.Errorf("session: history: %w", err)
	}
	start := x.Start()
	if start.IsZero() {
		start = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	id := historyID(start)
	for {
		if _, err := os.Lstat(h.path(id)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		id = historyID(start)
	}
	if err := WriteFileAtomic(h.path(id), data, 0o600); err != nil {
		return "", fmt.Errorf("session: history: %w", err)
	}
	it := newHistoryItem(id, x, int64(len(data)))
	if it.Time.IsZero() {
		it.Time = start.UTC()
	}
	h.items = append(h.items, it)
	sortHistory(h.items)
	if _, err := h.evictLocked(); err != nil {
		return id, err
	}
	if err := h.writeIndexLocked(); err != nil {
		return id, err
	}
	return id, nil
}

// evictLocked deletes the oldest entries while the limits are exceeded.
func (h *History) evictLocked() (bool, error) {
	maxN, maxB := h.limits.entries(), h.limits.bytes()
	var total int64
	for _, it := range h.items {
		total += it.Size
	}
	evicted := false
	for len(h.items) > 1 && (maxN >= 0 && len(h.items) > maxN || maxB >= 0 && total > maxB) {
		old := h.items[0]
		if err := os.Remove(h.path(old.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return evicted, fmt.Errorf("session: history: evicting %s: %w", old.ID, err)
		}
		h.items = h.items[1:]
		total -= old.Size
		evicted = true
	}
	return evicted, nil
}

// writeIndexLocked writes index.json atomically.
func (h *History) writeIndexLocked() error {
	idx := historyIndex{Format: historyFormat, Entries: h.items}
	if idx.Entries == nil {
		idx.Entries = []historyItem{}
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("session: history index: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(h.dir, historyIndexName), b, 0o600); err != nil {
		return fmt.Errorf("session: history index: %w", err)
	}
	return nil
}

// SetLimits changes the limits and applies them at once.
func (h *History) SetLimits(l HistoryLimits) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.limits = l
	h.shown.Store(&l)
	evicted, err := h.evictLocked()
	if err != nil {
		return err
	}
	if evicted {
		return h.writeIndexLocked()
	}
	return nil
}

// Limits returns the limits in force. It never waits for a write.
func (h *History) Limits() HistoryLimits {
	return *h.shown.Load()
}

// Len returns the number of entries.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.items)
}

// List returns the entries, newest first, that match filter: every term of
// filter must occur (case-insensitively) in the entry's params (names and
// values), URL, method, target, status ("404 Not Found"), error or
// stderr. Terms are separated by spaces; "a quoted phrase" is one term. An
// empty filter matches everything.
func (h *History) List(filter string) []HistoryEntry {
	words := filterTerms(strings.ToLower(filter))
	h.mu.Lock()
	items := slices.Clone(h.items)
	h.mu.Unlock()
	var out []HistoryEntry
	for i := len(items) - 1; i >= 0; i-- {
		if h.matches(&items[i], words) {
			out = append(out, items[i].HistoryEntry)
		}
	}
	return out
}

// filterTerms splits a filter into words and "quoted phrases".
func filterTerms(filter string) []string {
	var out []string
	for {
		filter = strings.TrimLeft(filter, " \t\r\n")
		if filter == "" {
			return out
		}
		if filter[0] == '"' {
			phrase, rest, _ := strings.Cut(filter[1:], `"`)
			if phrase != "" {
				out = append(out, phrase)
			}
			filter = rest
			continue
		}
		end := strings.IndexAny(filter, " \t\r\n\"")
		if end < 0 {
			end = len(filter)
		}
		out = append(out, filter[:end])
		filter = filter[end:]
	}
}

// matches reports whether every word occurs in it; a stderr cut short in the
// index is searched in the Exchange file.
func (h *History) matches(it *historyItem, words []string) bool {
	if len(words) == 0 {
		return true
	}
	text := strings.ToLower(strings.Join([]string{
		it.Params, it.URL, it.Method, it.Target, strconv.Itoa(it.Status) + " " + it.Reason, it.Error, it.Stderr,
	}, "\n"))
	var full []byte // lower-cased stderr from the file, loaded on demand
	for _, w := range words {
		if strings.Contains(text, w) {
			continue
		}
		if !it.StderrCut {
			return false
		}
		if full == nil {
			x, err := h.Load(it.ID)
			if err != nil {
				return false
			}
			full = bytes.ToLower(x.Stderr())
		}
		if !bytes.Contains(full, []byte(w)) {
			return false
		}
	}
	return true
}

// Load reads the Exchange stored under id.
func (h *History) Load(id string) (*Exchange, error) {
	if !validHistoryID(id) {
		return nil, fmt.Errorf("session: history: %q is not a history id", id)
	}
	return LoadExchangeFile(h.path(id))
}

// Delete removes one entry.
func (h *History) Delete(id string) error {
	if !validHistoryID(id) {
		return fmt.Errorf("session: history: %q is not a history id", id)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.IndexFunc(h.items, func(it historyItem) bool { return it.ID == id })
	if i < 0 {
		return fmt.Errorf("session: history: no entry %s: %w", id, fs.ErrNotExist)
	}
	if err := os.Remove(h.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("session: history: %w", err)
	}
	h.items = slices.Delete(h.items, i, i+1)
	if err := SyncDir(h.dir); err != nil {
		return fmt.Errorf("session: history: %w", err)
	}
	return h.writeIndexLocked()
}

// Clear removes every entry. Files the history does not know (corrupt
// entries reported by Problems, stray temporary files) are left alone.
func (h *History) Clear() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	kept := h.items[:0]
	for _, it := range h.items {
		if err := os.Remove(h.path(it.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			kept = append(kept, it)
		}
	}
	h.items = kept
	if err := h.writeIndexLocked(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("session: history: clear: %w", err)
	}
	return nil
}

// Comparing two exchanges.

// DiffKind says how a row of a side-by-side diff differs.
type DiffKind int

// Kinds of diff rows.
const (
	DiffSame    DiffKind = iota // the same on both sides
	DiffChanged                 // on both sides, different
	DiffRemoved                 // only on the left (a)
	DiffAdded                   // only on the right (b)
)

func (k DiffKind) String() string {
	switch k {
	case DiffSame:
		return "same"
	case DiffChanged:
		return "changed"
	case DiffRemoved:
		return "removed"
	case DiffAdded:
		return "added"
	}
	return fmt.Sprintf("DiffKind(%d)", int(k))
}

// DiffRow is one row of a side-by-side diff. Line numbers count from 1; 0
// means the side has no line in this row.
type DiffRow struct {
	Kind                DiffKind
	Left, Right         string
	LeftLine, RightLine int
}

// Diff is the difference between two exchanges, ready to show side by side.
type Diff struct {
	// Params compares the params sent, as NAME=VALUE lines in order.
	Params []DiffRow
	// Headers compares the responses: a "Status: CODE Reason" line, then
	// the header lines.
	Headers []DiffRow
	// Body compares the response bodies line by line when both are text;
	// when either is binary, BodyBinary is set and Body holds one row
	// describing each body (size, and whether they are equal).
	Body       []DiffRow
	BodyBinary bool
	// Stderr compares the stderr streams line by line.
	Stderr []DiffRow
}

// Equal reports whether the diff found no difference.
func (d Diff) Equal() bool {
	for _, rows := range [][]DiffRow{d.Params, d.Headers, d.Body, d.Stderr} {
		for _, r := range rows {
			if r.Kind != DiffSame {
				return false
			}
		}
	}
	return true
}

// maxDiffCells bounds the LCS table (rows × columns) after the common
// prefix and suffix are set aside; a larger middle is shown as removed then
// added, without matching lines inside it.
const maxDiffCells = 4 << 20

// Compare returns the differences between a and b: params, response status
// and headers, body (a line diff for text) and stderr.
func Compare(a, b *Exchange) Diff {
	var d Diff
	d.Params = DiffLines(paramLines(a.Params()), paramLines(b.Params()), lineKey("="))
	d.Headers = DiffLines(responseLines(a.Response()), responseLines(b.Response()), lineKey(":"))
	ab, bb := responseBody(a.Response()), responseBody(b.Response())
	if isText(ab) && isText(bb) {
		d.Body = DiffLines(textLines(ab), textLines(bb), nil)
	} else {
		d.BodyBinary = true
		row := DiffRow{Kind: DiffSame, Left: describeBody(ab), Right: describeBody(bb), LeftLine: 1, RightLine: 1}
		if !bytes.Equal(ab, bb) {
			row.Kind = DiffChanged
		}
		d.Body = []DiffRow{row}
	}
	d.Stderr = DiffLines(textLines(a.Stderr()), textLines(b.Stderr()), nil)
	return d
}

func paramLines(ps Params) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name + "=" + p.Value
	}
	return out
}

func responseLines(r *HTTPResponse) []string {
	if r == nil {
		return nil
	}
	out := []string{fmt.Sprintf("Status: %d %s", r.Status, r.Reason)}
	for _, h := range r.Headers {
		out = append(out, h.Name+": "+h.Value)
	}
	return out
}

func responseBody(r *HTTPResponse) []byte {
	if r == nil {
		return nil
	}
	return r.Body
}

// isText reports whether b reads as text: UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

func describeBody(b []byte) string {
	if isText(b) {
		return fmt.Sprintf("%d bytes of text", len(b))
	}
	return fmt.Sprintf("%d bytes of binary data", len(b))
}

// textLines splits text into lines; a final newline does not start an
// empty line.
func textLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.Split(s, "\n")
}

// lineKey returns a key function that pairs changed lines by the text
// before sep (a param's or header's name).
func lineKey(sep string) func(string) string {
	return func(s string) string {
		k, _, _ := strings.Cut(s, sep)
		return strings.ToLower(k)
	}
}

// DiffLines diffs two lists of lines with a longest common subsequence and
// returns side-by-side rows. Within a run of differing lines, a removed and
// an added line are shown as one changed row: paired by key when key is
// given (lines with the same key), else by position.
func DiffLines(a, b []string, key func(string) string) []DiffRow {
	// Set aside the common prefix and suffix.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var rows []DiffRow
	for i := range pre {
		rows = append(rows, DiffRow{Kind: DiffSame, Left: a[i], Right: b[i], LeftLine: i + 1, RightLine: i + 1})
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(am), len(bm)
	// ops: 0 same, 1 removed (from a), 2 added (from b)
	var ops []byte
	if n > 0 && m > 0 && n*m <= maxDiffCells {
		// lcs[i][j] = LCS length of am[i:] and bm[j:].
		lcs := make([]int32, (n+1)*(m+1))
		at := func(i, j int) *int32 { return &lcs[i*(m+1)+j] }
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					*at(i, j) = *at(i+1, j+1) + 1
				} else {
					*at(i, j) = max(*at(i+1, j), *at(i, j+1))
				}
			}
		}
		i, j := 0, 0
		for i < n && j < m {
			switch {
			case am[i] == bm[j]:
				ops = append(ops, 0)
				i++
				j++
			case *at(i+1, j) >= *at(i, j+1):
				ops = append(ops, 1)
				i++
			default:
				ops = append(ops, 2)
				j++
			}
		}
		for ; i < n; i++ {
			ops = append(ops, 1)
		}
		for ; j < m; j++ {
			ops = append(ops, 2)
		}
	} else {
		ops = append(bytes.Repeat([]byte{1}, n), bytes.Repeat([]byte{2}, m)...)
	}
	ai, bi := pre, pre
	for k := 0; k < len(ops); {
		if ops[k] == 0 {
			rows = append(rows, DiffRow{Kind: DiffSame, Left: a[ai], Right: b[bi], LeftLine: ai + 1, RightLine: bi + 1})
			ai, bi, k = ai+1, bi+1, k+1
			continue
		}
		var rem, add []int // indexes into a and b
		for ; k < len(ops) && ops[k] != 0; k++ {
			if ops[k] == 1 {
				rem = append(rem, ai)
				ai++
			} else {
				add = append(add, bi)
				bi++
			}
		}
		rows = append(rows, pairHunk(a, b, rem, add, key)...)
	}
	for i := range suf {
		ai, bi := len(a)-suf+i, len(b)-suf+i
		rows = append(rows, DiffRow{Kind: DiffSame, Left: a[ai], Right: b[bi], LeftLine: ai + 1, RightLine: bi + 1})
	}
	return rows
}

// pairHunk turns a run of removed and added lines into rows.
func pairHunk(a, b []string, rem, add []int, key func(string) string) []DiffRow {
	partner := make(map[int]int, len(rem)) // rem index -> add index
	used := make([]bool, len(add))
	if key != nil {
		for _, r := range rem {
			for x, ad := range add {
				if !used[x] && key(a[r]) == key(b[ad]) {
					partner[r], used[x] = ad, true
					break
				}
			}
		}
	} else {
		for x := 0; x < len(rem) && x < len(add); x++ {
			partner[rem[x]], used[x] = add[x], true
		}
	}
	var rows []DiffRow
	for _, r := range rem {
		if ad, ok := partner[r]; ok {
			rows = append(rows, DiffRow{Kind: DiffChanged, Left: a[r], Right: b[ad], LeftLine: r + 1, RightLine: ad + 1})
		} else {
			rows = append(rows, DiffRow{Kind: DiffRemoved, Left: a[r], LeftLine: r + 1})
		}
	}
	for x, ad := range add {
		if !used[x] {
			rows = append(rows, DiffRow{Kind: DiffAdded, Right: b[ad], RightLine: ad + 1})
		}
	}
	return rows
}
