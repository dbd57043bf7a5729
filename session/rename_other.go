//go:build !unix

package session

import "os"

// renameFile is os.Rename (see rename_unix.go).
func renameFile(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
