// Presets and environments on the command line: send --preset FILE and
// --env NAME, the environments file found from the preset's folder up.

package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"

	"fcgiscope/session"
	"fcgiscope/session/preset"
)

// loadPreset reads a preset file; any error (missing file, corrupt TOML, a
// format newer than this fcgiscope reads) is a usage error naming the file.
func loadPreset(path string) (preset.Preset, error) {
	p, err := preset.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if !strings.Contains(msg, path) {
			msg = fmt.Sprintf("preset %s: %s", path, msg)
		}
		return preset.Preset{}, usagef("%s", msg)
	}
	return p, nil
}

// findEnvironmentsFile returns the environments file next to the preset
// file or in the nearest parent folder that has one, up to the root; ""
// when there is none.
func findEnvironmentsFile(presetPath string) string {
	dir, err := filepath.Abs(filepath.Dir(presetPath))
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, preset.EnvironmentsFile)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// environmentsFile returns the environments file --env reads: --env-file,
// else the one found from the preset's folder up, else the window's presets
// folder's. It must exist.
func environmentsFile(o *sendOpts) (string, error) {
	switch {
	case o.envFile != "":
		fi, err := os.Stat(o.envFile)
		if err != nil {
			return "", usagef("--env-file: %v", err)
		}
		if fi.IsDir() {
			return "", usagef("--env-file %s is a folder (give its %s)", o.envFile, preset.EnvironmentsFile)
		}
		return o.envFile, nil
	case o.preset != "":
		if p := findEnvironmentsFile(o.preset); p != "" {
			return p, nil
		}
		return "", usagef("--env %s: no %s next to the preset %s or in a parent folder: give --env-file FILE",
			o.envName, preset.EnvironmentsFile, o.preset)
	}
	dir, err := preset.DefaultDir()
	if err != nil {
		return "", usagef("--env %s: %v: give --env-file FILE", o.envName, err)
	}
	p := filepath.Join(dir, preset.EnvironmentsFile)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return "", usagef("--env %s: no %s in the presets folder %s: give --env-file FILE", o.envName, preset.EnvironmentsFile, dir)
	}
	return p, nil
}

// environmentNames lists the names of es for a message.
func environmentNames(es preset.Environments) string {
	if len(es.List) == 0 {
		return "none"
	}
	names := make([]string, len(es.List))
	for i, e := range es.List {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}

// substitute applies the --env environment to in and to the --param values
// (in one pass, so that one error lists every unknown variable, and where).
// Without --env, a preset that uses variables is a usage error naming them;
// without a preset the command line is sent as written, braces included.
func (e *env) substitute(o *sendOpts, in session.Input, user []session.RawParam) (session.Input, []session.RawParam, error) {
	all := in
	all.Params = append(slices.Clone(in.Params), user...)
	if o.envName == "" {
		if o.preset == "" {
			return in, user, nil
		}
		// An empty environment knows no variable: Apply names every one
		// that would be substituted (those of disabled params aside).
		_, err := preset.Environment{}.Apply(all)
		var uv *preset.UnknownVariablesError
		if !errors.As(err, &uv) {
			return in, user, nil
		}
		refs := make([]string, len(uv.Refs))
		for i, r := range uv.Refs {
			refs[i] = "{{" + r.Name + "}} in " + r.Where
		}
		hint := ""
		if path := findEnvironmentsFile(o.preset); path != "" {
			if es, err := preset.LoadEnvironments(path); err == nil {
				hint = fmt.Sprintf(" (environments in %s: %s)", path, environmentNames(es))
			}
		}
		return in, user, usagef("the request uses variables (%s): pass --env NAME to substitute them%s",
			strings.Join(refs, ", "), hint)
	}

	path, err := environmentsFile(o)
	if err != nil {
		return in, user, err
	}
	es, err := preset.LoadEnvironments(path)
	if err != nil {
		return in, user, usagef("--env: %v", err)
	}
	envt, ok := es.Get(o.envName)
	if !ok {
		return in, user, usagef("--env %q: no such environment in %s (known: %s)", o.envName, path, environmentNames(es))
	}
	out, err := envt.Apply(all)
	if err != nil {
		return in, user, usagef("%v; nothing was sent", err)
	}
	e.log.WithFields(logrus.Fields{"env": envt.Name, "file": path}).Info("environment applied")
	n := len(in.Params)
	user = out.Params[n:]
	out.Params = out.Params[:n:n]
	return out, user, nil
}
