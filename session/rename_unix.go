//go:build unix

package session

import (
	"os"
	"syscall"
)

// renameFile renames a file over another, or to a new name: os.Rename
// without its first Lstat of newpath (which only makes renaming over a
// directory fail with a clearer error). The Recorder calls it for every
// exchange, where that Lstat cost a third of the rename.
func renameFile(oldpath, newpath string) error {
	for {
		err := syscall.Rename(oldpath, newpath)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
		return nil
	}
}
