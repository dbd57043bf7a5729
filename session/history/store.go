// Package history keeps every sent Exchange on disk, one Exchange file each,
// with an index for fast listing, bounded by count and size; and compares
// two exchanges side by side.
package history

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

	"fcgiscope/session"

	"fcgiscope/fcgi"
)

// DirName is the history folder's name under session.AppDirName.
const DirName = "history" // os.UserConfigDir()/fcgiscope/history

// History file names and format.
const (
	indexName   = "index.json"
	fileExt     = ".json"
	indexFormat = 1
	// stderrIndexed is how much stderr the index keeps for
	// filtering; a longer stderr is searched in its file.
	stderrIndexed = 16 << 10
)

// Default history limits.
const (
	DefaultEntries = 1000
	DefaultBytes   = 256 << 20
)

// DefaultDir returns os.UserConfigDir()/fcgiscope/history.
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("session: history folder: %w", err)
	}
	return filepath.Join(d, session.AppDirName, DirName), nil
}

// Limits bound the history; past either one the oldest entries are
// deleted. The newest entry is always kept, even alone above MaxBytes.
type Limits struct {
	// MaxEntries: 0 means DefaultEntries, a negative value no limit.
	MaxEntries int
	// MaxBytes bounds the total size of the Exchange files: 0 means
	// DefaultBytes, a negative value no limit.
	MaxBytes int64
}

func (l Limits) entries() int {
	if l.MaxEntries == 0 {
		return DefaultEntries
	}
	return l.MaxEntries
}

func (l Limits) bytes() int64 {
	if l.MaxBytes == 0 {
		return DefaultBytes
	}
	return l.MaxBytes
}

// Entry describes one stored Exchange, as the history list shows it.
type Entry struct {
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
	// Error says why the exchange failed (its Failure's text), "" if it
	// did not.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
	// Size is the size of the Exchange file in bytes.
	Size int64 `json:"size"`
}

// item is an index entry: the entry plus the text filters search.
type item struct {
	Entry
	Params string `json:"params"` // NAME=VALUE lines
	Stderr string `json:"stderr"` // the first stderrIndexed bytes
	// StderrCut: Stderr holds only the start; the file has the rest.
	StderrCut bool `json:"stderr_cut,omitempty"`
}

// index is the content of index.json.
type index struct {
	Format  int    `json:"format"`
	Entries []item `json:"entries"`
}

// Store is the list of sent exchanges, kept in a folder: one Exchange file
// (see session.SaveExchangeFile) per exchange, named after its id, and index.json,
// which only speeds up listing: when it is missing, corrupt or out of date it
// is rebuilt from the files. A corrupt Exchange file is reported (Problems)
// and skipped, never deleted or overwritten. It is safe for concurrent use.
type Store struct {
	dir string

	// shown is a copy of limits that Limits reads without waiting for a
	// write in progress (a window calls it on its UI goroutine).
	shown atomic.Pointer[Limits]

	mu       sync.Mutex // guards the files and the fields below
	limits   Limits
	items    []item // oldest first
	problems []error
}

// Open opens (creating it if needed) the history in dir; "" means
// DefaultDir. It reconciles the index with the files, reporting
// corrupt ones in Problems, and applies limits.
func Open(dir string, limits Limits) (*Store, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session: history: %w", err)
	}
	h := &Store{dir: dir, limits: limits}
	h.shown.Store(&limits)
	if err := h.load(); err != nil {
		return nil, err
	}
	return h, nil
}

// Dir returns the history folder.
func (h *Store) Dir() string { return h.dir }

// Problems returns what was wrong when the history was opened: corrupt
// Exchange files (skipped, left on disk) and a corrupt index (rebuilt).
func (h *Store) Problems() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.problems)
}

// load reads the index and reconciles it with the folder.
func (h *Store) load() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	indexPath := filepath.Join(h.dir, indexName)
	known := map[string]item{}
	dirty := false
	switch b, err := os.ReadFile(indexPath); {
	case errors.Is(err, fs.ErrNotExist):
		dirty = true
	case err != nil:
		return fmt.Errorf("session: history: %w", err)
	default:
		var idx index
		if err := json.Unmarshal(b, &idx); err != nil || idx.Format != indexFormat {
			if err == nil {
				err = fmt.Errorf("format %d, want %d", idx.Format, indexFormat)
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
		id, ok := strings.CutSuffix(name, fileExt)
		if !ok || name == indexName || session.IsTempName(name) || !de.Type().IsRegular() || !validID(id) {
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
		x, err := session.LoadExchangeFile(path)
		if err != nil {
			h.problems = append(h.problems, fmt.Errorf("session: history entry skipped: %w", err))
			continue
		}
		h.items = append(h.items, newItem(id, x, info.Size()))
	}
	if len(known) > 0 {
		dirty = true // entries whose file is gone
	}
	sortItems(h.items)
	evicted, err := h.evictLocked()
	if err != nil {
		return err
	}
	if dirty || evicted {
		return h.writeIndexLocked()
	}
	return nil
}

func sortItems(items []item) {
	slices.SortStableFunc(items, func(a, b item) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Summarize returns the entry the history lists for x, without the ID and
// Size that storing it gives.
func Summarize(x *session.Exchange) Entry {
	params := x.Params()
	e := Entry{Time: x.Start(), Target: x.Target(), Role: x.Role(), Duration: x.Timings().Total}
	if f := x.Failure(); f != nil {
		e.Error = f.Text // the user's words, as the window says it
	}
	e.Method, _ = params.Get("REQUEST_METHOD")
	if u, ok := params.Get("REQUEST_URI"); ok {
		e.URL = u
	} else {
		e.URL, _ = params.Get("SCRIPT_NAME")
	}
	if r := x.Response(); r != nil {
		e.Status, e.Reason = r.Status, r.Reason
	}
	return e
}

// newItem summarizes x for the index.
func newItem(id string, x *session.Exchange, size int64) item {
	it := item{Entry: Summarize(x)}
	it.ID, it.Size = id, size
	params := x.Params()
	var b strings.Builder
	for _, p := range params {
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(p.Value)
		b.WriteByte('\n')
	}
	it.Params = b.String()
	stderr := x.Stderr()
	if len(stderr) > stderrIndexed {
		cut := stderrIndexed
		for cut > 0 && !utf8.RuneStart(stderr[cut]) {
			cut--
		}
		stderr, it.StderrCut = stderr[:cut], true
	}
	it.Stderr = string(stderr)
	return it
}

// newID returns a new id: the start time, sortable, and a random suffix.
func newID(t time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return t.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r[:])
}

// validID accepts the ids newID makes (and nothing that could
// leave the folder).
func validID(id string) bool {
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

func (h *Store) path(id string) string { return filepath.Join(h.dir, id+fileExt) }

// Add stores x, a finished Exchange, then deletes the oldest entries above
// the limits. It returns the new entry's id. When the Exchange file was
// written but the index could not be, the id comes back with the error: the
// entry is stored and the next Open indexes it.
func (h *Store) Add(x *session.Exchange) (string, error) {
	data, err := session.EncodeExchangeFile(x, true)
	if err != nil {
		return "", fmt.Errorf("session: history: %w", err)
	}
	start := x.Start()
	if start.IsZero() {
		start = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	id := newID(start)
	for {
		if _, err := os.Lstat(h.path(id)); errors.Is(err, fs.ErrNotExist) {
			break
		}
		id = newID(start)
	}
	if err := session.WriteFileAtomic(h.path(id), data, 0o600); err != nil {
		return "", fmt.Errorf("session: history: %w", err)
	}
	it := newItem(id, x, int64(len(data)))
	if it.Time.IsZero() {
		it.Time = start.UTC()
	}
	h.items = append(h.items, it)
	sortItems(h.items)
	if _, err := h.evictLocked(); err != nil {
		return id, err
	}
	if err := h.writeIndexLocked(); err != nil {
		return id, err
	}
	return id, nil
}

// evictLocked deletes the oldest entries while the limits are exceeded.
func (h *Store) evictLocked() (bool, error) {
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
func (h *Store) writeIndexLocked() error {
	idx := index{Format: indexFormat, Entries: h.items}
	if idx.Entries == nil {
		idx.Entries = []item{}
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("session: history index: %w", err)
	}
	if err := session.WriteFileAtomic(filepath.Join(h.dir, indexName), b, 0o600); err != nil {
		return fmt.Errorf("session: history index: %w", err)
	}
	return nil
}

// SetLimits changes the limits and applies them at once.
func (h *Store) SetLimits(l Limits) error {
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
func (h *Store) Limits() Limits {
	return *h.shown.Load()
}

// Len returns the number of entries.
func (h *Store) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.items)
}

// List returns the entries, newest first, that match filter: every term of
// filter must occur (case-insensitively) in the entry's params (names and
// values), URL, method, target, status ("404 Not Found"), error or
// stderr. Terms are separated by spaces; "a quoted phrase" is one term. An
// empty filter matches everything.
func (h *Store) List(filter string) []Entry {
	words := filterTerms(strings.ToLower(filter))
	h.mu.Lock()
	items := slices.Clone(h.items)
	h.mu.Unlock()
	var out []Entry
	for i := len(items) - 1; i >= 0; i-- {
		if h.matches(&items[i], words) {
			out = append(out, items[i].Entry)
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
func (h *Store) matches(it *item, words []string) bool {
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
func (h *Store) Load(id string) (*session.Exchange, error) {
	if !validID(id) {
		return nil, fmt.Errorf("session: history: %q is not a history id", id)
	}
	return session.LoadExchangeFile(h.path(id))
}

// Delete removes one entry.
func (h *Store) Delete(id string) error {
	if !validID(id) {
		return fmt.Errorf("session: history: %q is not a history id", id)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.IndexFunc(h.items, func(it item) bool { return it.ID == id })
	if i < 0 {
		return fmt.Errorf("session: history: no entry %s: %w", id, fs.ErrNotExist)
	}
	if err := os.Remove(h.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("session: history: %w", err)
	}
	h.items = slices.Delete(h.items, i, i+1)
	if err := session.SyncDir(h.dir); err != nil {
		return fmt.Errorf("session: history: %w", err)
	}
	return h.writeIndexLocked()
}

// Clear removes every entry. Files the history does not know (corrupt
// entries reported by Problems, stray temporary files) are left alone.
func (h *Store) Clear() error {
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
