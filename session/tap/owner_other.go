//go:build !unix

package tap

import "io/fs"

// fileOwner reports no owner where files have no user and group ids
// (Windows): the tap's socket keeps the process's.
func fileOwner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }
