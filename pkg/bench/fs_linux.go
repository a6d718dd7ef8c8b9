package bench

import (
	"strconv"
	"syscall"
)

// fsName names the file system dir is on, for the report: session
// transcripts and the index are files, and creating files costs very
// different amounts on different file systems.
func fsName(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return ""
	}
	switch uint64(st.Type) {
	case 0xef53:
		return "ext4"
	case 0x01021994:
		return "tmpfs"
	case 0x58465342:
		return "xfs"
	case 0x9123683e:
		return "btrfs"
	case 0x794c7630:
		return "overlayfs"
	case 0x2fc12fc1:
		return "zfs"
	}
	return "fs 0x" + strconv.FormatUint(uint64(st.Type), 16)
}
