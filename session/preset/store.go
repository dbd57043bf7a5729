// The presets folder: sub-folders are groups, a delete goes to a trash it
// can be undone from, and every write is atomic.

package preset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"fcgiscope/session"
)

// DefaultDir returns os.UserConfigDir()/fcgiscope/presets.
func DefaultDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("session: presets folder: %w", err)
	}
	return filepath.Join(d, session.AppDirName, DirName), nil
}

// Entry is one preset of a Store.
type Entry struct {
	// Group is the sub-folder, relative to the store, with "/" between
	// folders; "" at the top.
	Group string
	// Name is the file name without ".toml".
	Name string
	// Path is the file.
	Path string
	// Mode and Target summarize the preset for a list.
	Mode, Target string
}

// FullName returns the name Load takes: "group/name", or "name" at the top.
func (e Entry) FullName() string {
	if e.Group == "" {
		return e.Name
	}
	return e.Group + "/" + e.Name
}

// Store is a folder of presets; sub-folders are groups. A preset is
// named by its path from the folder without ".toml", "/" between folders:
// "login", "shop/cart/add". Every write is atomic; a corrupt file is
// reported and never overwritten; Delete moves the file to a .trash folder
// inside the store, from which Undelete brings it back.
type Store struct {
	dir string
}

// Open opens the presets folder dir, creating it if needed; ""
// means DefaultDir. Any folder can be opened, e.g. one inside a git
// repository.
func Open(dir string) (*Store, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("session: presets folder: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("session: presets folder: %w", err)
	}
	return &Store{dir: abs}, nil
}

// Dir returns the presets folder (absolute).
func (s *Store) Dir() string { return s.dir }

// ValidateName checks a preset name: "/"-separated parts, each non-empty,
// not "." or "..", not starting with "." (hidden files and the trash), without
// "\", control bytes or characters some systems refuse in file names
// (<>:"|?*), not ending in a space or a dot; and not "environments" at the
// top, which is the environments file.
func ValidateName(name string) error {
	bad := func(why string) error { return fmt.Errorf("session: preset name %q: %s: %w", name, why, ErrName) }
	if name == "" {
		return bad("empty")
	}
	if !utf8.ValidString(name) {
		return bad("not UTF-8")
	}
	if strings.HasPrefix(name, "/") {
		return bad("starts with /")
	}
	for _, part := range strings.Split(name, "/") {
		switch {
		case part == "":
			return bad("empty folder name")
		case part == "." || part == "..":
			return bad(`"." and ".." are not names`)
		case strings.HasPrefix(part, "."):
			return bad("a name may not start with a dot")
		case strings.HasSuffix(part, " ") || strings.HasSuffix(part, "."):
			return bad("a name may not end with a space or a dot")
		case len(part)+len(Ext) > 255:
			return bad("too long")
		}
		for _, r := range part {
			if r < 0x20 || r == 0x7f || strings.ContainsRune(`\<>:"|?*`, r) {
				return bad(fmt.Sprintf("%q is not allowed", r))
			}
		}
	}
	if strings.EqualFold(name+Ext, EnvironmentsFile) {
		return bad("reserved for the environments file")
	}
	return nil
}

// Path returns the file that holds the preset name (a valid name).
func (s *Store) Path(name string) string {
	return filepath.Join(s.dir, filepath.FromSlash(name)+Ext)
}

// List returns every preset, sorted by group then name, and the files that
// could not be read (corrupt, or of a newer format), which are skipped.
// Hidden files and folders (the trash, temporary files) are not listed.
func (s *Store) List() ([]Entry, []error) {
	var out []Entry
	var errs []error
	err := filepath.WalkDir(s.dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("session: presets: %w", err))
			if de != nil && de.IsDir() && path != s.dir {
				return fs.SkipDir
			}
			return nil
		}
		name := de.Name()
		if path == s.dir {
			return nil
		}
		if de.IsDir() {
			if strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if session.IsTempName(name) || !strings.HasSuffix(name, Ext) || !de.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return nil
		}
		full := strings.TrimSuffix(filepath.ToSlash(rel), Ext)
		if ValidateName(full) != nil {
			return nil // environments.toml, or a name we would not write
		}
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("session: presets: %w", err))
			return nil
		}
		p, err := decode(data, pathMapper{})
		if err != nil {
			errs = append(errs, fmt.Errorf("session: preset %s: %w", path, err))
			return nil
		}
		e := Entry{Name: full, Path: path, Mode: p.Mode, Target: p.Target}
		if i := strings.LastIndexByte(full, '/'); i >= 0 {
			e.Group, e.Name = full[:i], full[i+1:]
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("session: presets: %w", err))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Name < out[j].Name
	})
	return out, errs
}

// Search returns the presets whose full name ("group/name") contains query,
// case-insensitively, in List order. Unreadable files are left out.
func (s *Store) Search(query string) []Entry {
	all, _ := s.List()
	q := strings.ToLower(query)
	var out []Entry
	for _, e := range all {
		if strings.Contains(strings.ToLower(e.FullName()), q) {
			out = append(out, e)
		}
	}
	return out
}

// Load reads the preset called name.
func (s *Store) Load(name string) (Preset, error) {
	if err := ValidateName(name); err != nil {
		return Preset{}, err
	}
	return readFile(s.Path(name), s.dir)
}

// Save writes p as name, replacing the preset of that name. It refuses to
// replace a file that is not a valid preset (delete or rename it first), so
// that a file it cannot read is never overwritten.
func (s *Store) Save(p Preset, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	path := s.Path(name)
	if data, err := os.ReadFile(path); err == nil {
		if _, err := decode(data, pathMapper{}); err != nil {
			return fmt.Errorf("session: preset %s: refusing to overwrite a file that is not a valid preset (delete or rename it first): %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("session: preset: %w", err)
	}
	return s.write(p, name)
}

func (s *Store) write(p Preset, name string) error {
	path := s.Path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	return writeFile(path, p, s.dir)
}

// exists reports whether a preset file of that name exists.
func (s *Store) exists(name string) (bool, error) {
	_, err := os.Lstat(s.Path(name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("session: preset: %w", err)
}

// SaveAs writes p as a new preset called name; it fails (fs.ErrExist) if
// one exists.
func (s *Store) SaveAs(p Preset, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if ok, err := s.exists(name); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("session: preset %q: %w", name, fs.ErrExist)
	}
	return s.write(p, name)
}

// Rename renames (or moves to another group) the preset oldName; it fails
// (fs.ErrExist) if newName exists. The file is moved as it is, unless it
// changes folder and holds relative paths, which are then rewritten so
// that they still point at the same files.
func (s *Store) Rename(oldName, newName string) error {
	if err := ValidateName(oldName); err != nil {
		return err
	}
	if err := ValidateName(newName); err != nil {
		return err
	}
	if ok, err := s.exists(newName); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("session: preset %q: %w", newName, fs.ErrExist)
	}
	oldPath, newPath := s.Path(oldName), s.Path(newName)
	if err := os.MkdirAll(filepath.Dir(newPath), 0o755); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	if filepath.Dir(oldPath) != filepath.Dir(newPath) {
		data, err := os.ReadFile(oldPath)
		if err != nil {
			return fmt.Errorf("session: preset: %w", err)
		}
		if p, err := decode(data, pathMapper{}); err == nil && p.hasRelativePaths() {
			moved, err := readFile(oldPath, s.dir)
			if err != nil {
				return err
			}
			if err := writeFile(newPath, moved, s.dir); err != nil {
				return err
			}
			if err := os.Remove(oldPath); err != nil {
				return fmt.Errorf("session: preset: %w", err)
			}
			return session.SyncDir(filepath.Dir(oldPath))
		}
	}
	return session.RenameDurable(oldPath, newPath)
}

// hasRelativePaths reports whether p, as decoded without a folder, holds a
// relative path.
func (p Preset) hasRelativePaths() bool {
	rel := func(s string) bool { return s != "" && !filepath.IsAbs(filepath.FromSlash(s)) }
	return rel(p.BodyFile) || rel(p.DataFile) || p.HTTP != nil && rel(p.HTTP.BodyFile)
}

// Duplicate copies the preset name to newName and returns newName; an
// empty newName picks "NAME copy", "NAME copy 2", … in the same group.
func (s *Store) Duplicate(name, newName string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	if newName == "" {
		for i := 1; ; i++ {
			newName = name + " copy"
			if i > 1 {
				newName += " " + strconv.Itoa(i)
			}
			ok, err := s.exists(newName)
			if err != nil {
				return "", err
			}
			if !ok {
				break
			}
		}
	}
	p, err := s.Load(name)
	if err != nil {
		return "", err
	}
	if err := s.SaveAs(p, newName); err != nil {
		return "", err
	}
	return newName, nil
}

// Delete moves the preset name to the store's .trash folder, from which
// Undelete restores it.
func (s *Store) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	src := s.Path(name)
	if _, err := os.Lstat(src); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	seqs, err := s.trashSeqs()
	if err != nil {
		return err
	}
	next := 1
	if len(seqs) > 0 {
		next = seqs[len(seqs)-1] + 1
	}
	dst := filepath.Join(s.dir, trashDirName, strconv.Itoa(next), filepath.FromSlash(name)+Ext)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	return session.RenameDurable(src, dst)
}

// trashSeqs returns the numbered folders of the trash, in increasing order.
func (s *Store) trashSeqs() ([]int, error) {
	des, err := os.ReadDir(filepath.Join(s.dir, trashDirName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: preset trash: %w", err)
	}
	var seqs []int
	for _, de := range des {
		if n, err := strconv.Atoi(de.Name()); err == nil && de.IsDir() && n > 0 {
			seqs = append(seqs, n)
		}
	}
	sort.Ints(seqs)
	return seqs, nil
}

// Deleted returns the names of the presets in the trash, most recently
// deleted first (a name deleted twice appears twice).
func (s *Store) Deleted() ([]string, error) {
	seqs, err := s.trashSeqs()
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(seqs) - 1; i >= 0; i-- {
		base := filepath.Join(s.dir, trashDirName, strconv.Itoa(seqs[i]))
		_ = filepath.WalkDir(base, func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() || !strings.HasSuffix(path, Ext) {
				return nil
			}
			if rel, err := filepath.Rel(base, path); err == nil {
				out = append(out, strings.TrimSuffix(filepath.ToSlash(rel), Ext))
			}
			return nil
		})
	}
	return out, nil
}

// Undelete restores the most recently deleted preset called name. It fails
// (fs.ErrExist) if a preset of that name exists again.
func (s *Store) Undelete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	seqs, err := s.trashSeqs()
	if err != nil {
		return err
	}
	for i := len(seqs) - 1; i >= 0; i-- {
		base := filepath.Join(s.dir, trashDirName, strconv.Itoa(seqs[i]))
		src := filepath.Join(base, filepath.FromSlash(name)+Ext)
		if _, err := os.Lstat(src); err != nil {
			continue
		}
		dst := s.Path(name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("session: preset: %w", err)
		}
		if err := session.RenameDurable(src, dst); err != nil {
			return err
		}
		removeEmptyDirs(filepath.Dir(src), filepath.Dir(base))
		return nil
	}
	return fmt.Errorf("session: preset %q is not in the trash: %w", name, fs.ErrNotExist)
}

// EmptyTrash deletes the presets in the trash for good.
func (s *Store) EmptyTrash() error {
	if err := os.RemoveAll(filepath.Join(s.dir, trashDirName)); err != nil {
		return fmt.Errorf("session: preset trash: %w", err)
	}
	return nil
}

// removeEmptyDirs removes dir and its parents while they are empty, up to
// (not including) stop.
func removeEmptyDirs(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
