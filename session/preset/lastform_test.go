package preset

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLastForm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", LastFormName)
	if _, ok, err := ReadLastForm(path); ok || err != nil {
		t.Fatalf("no file: ok %v, err %v; want no form and no error", ok, err)
	}
	in := richInput()
	if err := WriteLastForm(path, FromInput(in)); err != nil {
		t.Fatal(err)
	}
	p, ok, err := ReadLastForm(path)
	if err != nil || !ok {
		t.Fatalf("reading back: ok %v, %v", ok, err)
	}
	if got := p.Input(); !reflect.DeepEqual(got, in) {
		t.Errorf("the form read back\n%#v\nwant\n%#v", got, in)
	}

	// Damaged: moved aside, never read again, never lost.
	bad := []byte("format = 1\nhttp = 3\n")
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, ok, err = ReadLastForm(path)
	if ok || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path+".unreadable") {
		t.Fatalf("damaged file: ok %v, err %v", ok, err)
	}
	if kept, _ := os.ReadFile(path + ".unreadable"); string(kept) != string(bad) {
		t.Errorf("the damaged file was not kept aside: %q", kept)
	}
	if _, ok, err := ReadLastForm(path); ok || err != nil {
		t.Errorf("after moving it aside: ok %v, err %v; want no form", ok, err)
	}
}
