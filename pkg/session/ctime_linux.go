package session

import (
	"os"
	"syscall"
)

// changeTime is a file's status change time in nanoseconds (0 when
// unknown). Renaming a file over the index changes it even when size and
// modification time happen to match.
func changeTime(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		sec, nsec := st.Ctim.Unix()
		return sec*1e9 + nsec
	}
	return 0
}
