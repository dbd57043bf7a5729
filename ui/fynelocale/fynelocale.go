// Package fynelocale gives Fyne a locale it can read, before Fyne reads it.
//
// Fyne's lang package reads the user's locale when the program starts, in
// its init function: the first of LC_ALL, LC_MESSAGES and LANG, or the
// LANGUAGE list (as github.com/jeandeaual/go-locale reads them). A value that
// is not a language tag once its codeset is cut off, such as Debian's and
// CI's default LANG=C.UTF-8 (read as "C"), or de_DE@euro, makes it print
// "Fyne error: Error parsing user locale C" and two more lines on standard
// error. Every program that links Fyne runs that init before main, the
// headless subcommands of fcgiscope included, where the lines break
// --log-format json; the window calls lang.SystemLocale again later.
//
// This package's init runs first and, when the locale would not parse,
// sets LANGUAGE to the tags that do (the @modifier cut off), or to "en":
// the C locale means untranslated, which is English. It imports only
// packages that Fyne's lang package imports too, and Go initialises, among
// the packages whose imports are initialised, the one whose import path
// sorts first (the Go spec, "Package initialization", since Go 1.21):
// "fcgiscope/ui/fynelocale" sorts before "fyne.io/fyne/v2/lang". window.go
// imports it for that alone; nothing else changes the environment.
package fynelocale

import (
	"os"
	"strings"

	"github.com/jeandeaual/go-locale"
	"golang.org/x/text/language"
)

func init() { Fallback() }

// Fallback sets LANGUAGE so that every locale Fyne reads from the
// environment parses as a language tag, if one does not, and returns the
// value it set ("" when the environment was left alone).
func Fallback() string {
	locs, err := locale.GetLocales()
	if err != nil || len(locs) == 0 {
		return "" // no locale, or C or POSIX: Fyne uses English silently
	}
	var good []string
	bad := false
	for _, l := range locs {
		if _, err := language.Parse(l); err == nil {
			good = append(good, l)
			continue
		}
		bad = true
		if tag, _, cut := strings.Cut(l, "@"); cut {
			if _, err := language.Parse(tag); err == nil {
				good = append(good, tag)
			}
		}
	}
	if !bad {
		return ""
	}
	if len(good) == 0 {
		good = []string{"en"}
	}
	v := strings.Join(good, ":")
	os.Setenv("LANGUAGE", v)
	return v
}
