// Package preset saves composed requests as human-readable TOML files (one
// preset a file) in a folder with groups, search and an undoable delete,
// and keeps the environments whose {{variables}} a request uses.
package preset

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// Format is the version written in every preset file (format = 1). A file
// with a newer format is refused with ErrFormat.
const Format = 1

// File and folder names.
const (
	DirName          = "presets"           // os.UserConfigDir()/fcgiscope/presets
	Ext              = ".toml"             // a preset is NAME.toml
	EnvironmentsFile = "environments.toml" // the environments, in the presets folder
	trashDirName     = ".trash"            // deleted presets, until emptied
)

// Errors the presets wrap (errors.Is).
var (
	// ErrFormat: the file was written by a newer fcgiscope.
	ErrFormat = errors.New("preset format not supported")
	// ErrCorrupt: the file is not a valid preset.
	ErrCorrupt = errors.New("corrupt preset")
	// ErrName: the name is not a valid preset name.
	ErrName = errors.New("invalid preset name")
)

// Preset is a composed request as a preset file holds it: everything in
// Input, plus where the body came from.
//
// In memory every path is as the system resolves it (absolute, or relative
// to the working directory). In the file, body_file, data_file and
// http.body_file are relative to the preset's folder when they point inside
// the presets folder, so that a folder of presets moves (or lives in git)
// with its files.
type Preset struct {
	Mode      string
	Target    string
	Role      fcgi.Role
	KeepConn  bool
	RequestID uint16
	// Params are the composed params in order, with their enabled state.
	Params []session.RawParam
	// HTTP holds the HTTP-mode fields (its own Body and BodyFile
	// included); nil when there are none.
	HTTP *session.HTTPInput
	// Body is Input.Body (the STDIN body of raw mode).
	Body []byte
	// BodyFile, when set, names the file Body was read from: the preset
	// file refers to it (body_file) instead of holding the body, and
	// saving never writes that file.
	BodyFile string
	DataFile string
}

// FromInput returns the preset for a composed input (a deep copy).
func FromInput(in session.Input) Preset {
	in = in.Clone()
	return Preset{
		Mode: in.Mode, Target: in.Target, Role: in.Role, KeepConn: in.KeepConn, RequestID: in.RequestID,
		Params: in.Params, HTTP: in.HTTP, Body: in.Body, DataFile: in.DataFile,
	}
}

// WithInput returns p holding in instead, keeping p's BodyFile while the
// body is still the file's content: once the body is edited, the preset
// holds it inline, so that saving never drops an edit.
func (p Preset) WithInput(in session.Input) Preset {
	q := FromInput(in)
	if p.BodyFile != "" && bytes.Equal(p.Body, q.Body) {
		q.BodyFile = p.BodyFile
	}
	return q
}

// Input returns the composed input the preset stands for (a deep copy).
func (p Preset) Input() session.Input {
	return session.Input{
		Mode: p.Mode, Target: p.Target, Role: p.Role, KeepConn: p.KeepConn, RequestID: p.RequestID,
		Params: p.Params, HTTP: p.HTTP, Body: p.Body, DataFile: p.DataFile,
	}.Clone()
}

// Equal reports whether p and q would be saved the same and hold the same
// bodies, so that a window can mark unsaved changes. Empty and nil lists
// compare equal.
func (p Preset) Equal(q Preset) bool {
	if !bytes.Equal(p.Body, q.Body) {
		return false
	}
	a, errA := Encode(p)
	b, errB := Encode(q)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(p, q)
	}
	return bytes.Equal(a, b)
}

// ReadFile reads the preset file at path: relative paths are resolved
// against its folder and body_file is read into Body. Errors name the file.
func ReadFile(path string) (Preset, error) {
	return readFile(path, filepath.Dir(path))
}

func readFile(path, root string) (Preset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Preset{}, fmt.Errorf("session: preset: %w", err)
	}
	p, err := decode(data, pathMapper{dir: filepath.Dir(path), root: root})
	if err != nil {
		return Preset{}, fmt.Errorf("session: preset %s: %w", path, err)
	}
	if p.BodyFile != "" {
		b, err := os.ReadFile(p.BodyFile)
		if err != nil {
			return Preset{}, fmt.Errorf("session: preset %s: body_file: %w", path, err)
		}
		p.Body = b
	}
	return p, nil
}

// WriteFile writes p to path atomically. Paths inside path's folder are
// written relative to it.
func WriteFile(path string, p Preset) error {
	return writeFile(path, p, filepath.Dir(path))
}

func writeFile(path string, p Preset, root string) error {
	data, err := encode(p, pathMapper{dir: filepath.Dir(path), root: root})
	if err != nil {
		return fmt.Errorf("session: preset %s: %w", path, err)
	}
	return session.WriteFileAtomic(path, data, 0o600)
}

// pathMapper turns in-memory paths into the paths a preset file holds and
// back.
type pathMapper struct {
	dir  string // the preset file's folder ("" when unknown)
	root string // paths under root are written relative to dir
}

// toFile returns the path to write for p.
func (m pathMapper) toFile(p string) string {
	if p == "" || m.dir == "" {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(m.root, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	rel, err := filepath.Rel(m.dir, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(rel)
}

// fromFile returns the in-memory path for a path read from the file.
func (m pathMapper) fromFile(p string) string {
	if p == "" || m.dir == "" {
		return p
	}
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(m.dir, p)
}
