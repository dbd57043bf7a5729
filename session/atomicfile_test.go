package session

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tempFiles returns the temporary files WriteFileAtomic left in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), tempSuffix) {
			out = append(out, de.Name())
		}
	}
	return out
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := WriteFileAtomic(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("two"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "two" || fi.Mode().Perm() != 0o640 {
		t.Errorf("content %q, mode %v", b, fi.Mode())
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A write that fails at the rename (the target is a non-empty
	// folder) leaves the target as it was and no temporary file.
	target := filepath.Join(dir, "folder")
	if err := os.MkdirAll(filepath.Join(target, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(target, []byte("x"), 0o600); err == nil || !strings.Contains(err.Error(), target) {
		t.Errorf("err = %v", err)
	}
	if fi, err := os.Stat(filepath.Join(target, "inside")); err != nil || !fi.IsDir() {
		t.Error("the folder was damaged")
	}
	if left := tempFiles(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// A missing folder is an error, not a panic.
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such", "f"), []byte("x"), 0o600); err == nil {
		t.Error("wrote into a missing folder")
	}
	// The old content survives a failed write.
	if b, _ := os.ReadFile(path); !bytes.Equal(b, []byte("two")) {
		t.Errorf("content %q", b)
	}
	// RenameDurable never replaces.
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RenameDurable(path, other); err == nil {
		t.Error("RenameDurable replaced a file")
	}
	if b, _ := os.ReadFile(other); string(b) != "keep" {
		t.Errorf("other = %q", b)
	}
}
