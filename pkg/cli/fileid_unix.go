//go:build unix

package cli

import (
	"os"
	"syscall"
)

// fileID is the inode of a file, so a same-size same-mtime replacement by
// rename is still seen as a change.
func fileID(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino)
	}
	return 0
}
