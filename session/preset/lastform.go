// The last request form: the compose form as the window left it, kept in
// one preset file under the user's configuration folder for the next launch.

package preset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"fcgiscope/session"
)

// LastFormName is the file, in os.UserConfigDir()/fcgiscope, that keeps
// the last request form.
const LastFormName = "last-request" + Ext

// unreadableSuffix is added to a last form file that cannot be read, which
// is moved aside rather than overwritten.
const unreadableSuffix = ".unreadable"

// LastFormPath returns where the last request form is kept.
func LastFormPath() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("session: last request form: %w", err)
	}
	return filepath.Join(d, session.AppDirName, LastFormName), nil
}

// ReadLastForm reads the last request form kept at path. No file is no
// form: ok is false and err nil. A file that cannot be read as a preset
// (damaged, or written by a newer fcgiscope) is moved aside to
// path+".unreadable", so that it is neither lost nor read again; the error
// says where it went.
func ReadLastForm(path string) (p Preset, ok bool, err error) {
	p, err = ReadFile(path)
	switch {
	case err == nil:
		return p, true, nil
	case errors.Is(err, fs.ErrNotExist):
		return Preset{}, false, nil
	case errors.Is(err, ErrCorrupt) || errors.Is(err, ErrFormat):
		aside := path + unreadableSuffix
		if rerr := os.Rename(path, aside); rerr != nil {
			return Preset{}, false, fmt.Errorf("%w (and it could not be moved aside: %v)", err, rerr)
		}
		return Preset{}, false, fmt.Errorf("%w; the file was moved to %s", err, aside)
	}
	return Preset{}, false, err
}

// WriteLastForm writes p as the last request form at path, creating its
// folder, atomically.
func WriteLastForm(path string, p Preset) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("session: last request form: %w", err)
	}
	return WriteFile(path, p)
}
