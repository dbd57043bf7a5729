// Atomic file writes: a file on disk is either its old content or its new
// content, never a mix, whatever happens while it is written.

package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AppDirName is the folder of fcgiscope's files under the user's
// configuration directory (os.UserConfigDir()/fcgiscope): the history and
// the presets.
const AppDirName = "fcgiscope"

// tempPrefix and tempSuffix frame the names of the temporary files that
// WriteFileAtomic creates next to their target. Listings skip such names: a
// stray one left by a crash is ignored, never taken for a preset or an
// exchange, and never deleted (its bytes may be all that is left of
// something).
const (
	tempPrefix = "."
	tempSuffix = ".tmp"
)

// IsTempName reports whether a directory entry is a temporary file of
// WriteFileAtomic or WriteFileNoSync (or any other hidden file, which
// listings skip as well).
func IsTempName(name string) bool {
	return strings.HasPrefix(name, tempPrefix) || strings.HasSuffix(name, tempSuffix)
}

// WriteFileAtomic writes data to path so that a crash, a full disk or any
// other error leaves either the old file or the new one, never a partial
// file: it writes a temporary file in the same directory, syncs it, renames
// it over path and syncs the directory. On error the temporary file is
// removed and the old file, if any, is untouched. The directory must exist.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPrefix+base+".*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("session: writing %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(stage string, err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("session: writing %s: %s: %w", path, stage, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail("write", err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail("chmod", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := f.Close(); err != nil {
		return fail("close", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("session: writing %s: rename: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("session: writing %s: %w", path, err)
	}
	return nil
}

// SyncDir makes a rename or a removal in dir durable. Systems that cannot
// sync a directory (it fails with EINVAL or a permission error there) are
// let through: the rename itself is still atomic.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// RenameDurable renames oldpath to newpath and syncs both directories. It
// refuses to replace an existing newpath.
func RenameDurable(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); err == nil {
		return fmt.Errorf("session: rename %s to %s: %w", oldpath, newpath, os.ErrExist)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("session: rename %s to %s: %w", oldpath, newpath, err)
	}
	if err := os.Rename(oldpath, newpath); err != nil {
		return fmt.Errorf("session: rename: %w", err)
	}
	if err := SyncDir(filepath.Dir(newpath)); err != nil {
		return fmt.Errorf("session: rename %s: %w", newpath, err)
	}
	if od := filepath.Dir(oldpath); od != filepath.Dir(newpath) {
		if err := SyncDir(od); err != nil {
			return fmt.Errorf("session: rename %s: %w", oldpath, err)
		}
	}
	return nil
}

// WriteFileNoSync writes data to path through a temporary file renamed into
// place, so that the file appears whole or not at all; unlike
// WriteFileAtomic it syncs nothing, which is much faster but lets a crash
// of the system lose the file (see Proxy.Dir). The temporary file's name is
// one that listings skip (IsTempName).
func WriteFileNoSync(path string, data []byte) error {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, tempPrefix+base+".*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
