//go:build !linux

package bench

func fsName(string) string { return "" }
