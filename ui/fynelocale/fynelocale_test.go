package fynelocale_test

import (
	"bytes"
	"log"
	"os"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"github.com/jeandeaual/go-locale"
	"golang.org/x/text/language"

	"fcgiscope/ui/fynelocale"
)

// TestFallback: for every locale environment seen to upset Fyne (issue 13,
// defect 8), and some that do not, Fallback leaves the environment alone
// when every locale parses and otherwise sets LANGUAGE so that they all
// do; Fyne then reads the locale without logging anything.
func TestFallback(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		set  string // LANGUAGE set by Fallback, "" for none
	}{
		{"LANG=C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, "en"},
		{"LANG=C.utf8", map[string]string{"LANG": "C.utf8"}, "en"},
		{"LC_ALL over a good LANG", map[string]string{"LC_ALL": "C.UTF-8", "LANG": "en_US.UTF-8"}, "en"},
		{"LC_MESSAGES", map[string]string{"LC_MESSAGES": "C.UTF-8"}, "en"},
		{"LANGUAGE", map[string]string{"LANG": "en_US.UTF-8", "LANGUAGE": "C.UTF-8"}, "en"},
		{"LANGUAGE list with a bad one", map[string]string{"LANG": "de_DE.UTF-8", "LANGUAGE": "fr_FR:C.UTF-8:de"}, "fr-FR:de"},
		{"modifier", map[string]string{"LANG": "de_DE.UTF-8@euro"}, ""},
		{"modifier without codeset", map[string]string{"LANG": "de_DE@euro"}, "de-DE"},
		{"nonsense", map[string]string{"LANG": "1.UTF-8"}, "en"},
		{"LANG=C", map[string]string{"LANG": "C"}, ""},
		{"POSIX", map[string]string{"LANG": "POSIX"}, ""},
		{"unset", map[string]string{}, ""},
		{"en_US.UTF-8", map[string]string{"LANG": "en_US.UTF-8"}, ""},
		{"de_DE.UTF-8", map[string]string{"LANG": "de_DE.UTF-8"}, ""},
		{"C over LANGUAGE", map[string]string{"LC_ALL": "C", "LANGUAGE": "C.UTF-8"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"} {
				t.Setenv(k, tc.env[k])
			}
			if got := fynelocale.Fallback(); got != tc.set {
				t.Errorf("Fallback set LANGUAGE=%q, want %q", got, tc.set)
			}
			locs, _ := locale.GetLocales()
			for _, l := range locs {
				if _, err := language.Parse(l); err != nil {
					t.Errorf("after Fallback the locale %q does not parse: %v", l, err)
				}
			}
			var logged bytes.Buffer
			log.SetOutput(&logged)
			defer log.SetOutput(os.Stderr)
			lang.SystemLocale() // what the window's widgets call
			// Adding translations reads the locale list again, as Fyne's init does.
			if err := lang.AddTranslations(fyne.NewStaticResource("en.json", []byte("{}"))); err != nil {
				t.Fatal(err)
			}
			if logged.Len() > 0 {
				t.Errorf("Fyne logged:\n%s", logged.String())
			}
		})
	}
}
