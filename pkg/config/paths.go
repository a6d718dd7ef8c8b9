package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables that choose where state and config live.
const (
	EnvStateDir   = "OPENCLAW_STATE_DIR"
	EnvConfigPath = "OPENCLAW_CONFIG_PATH"
)

// FileName is the config file's name inside the state dir.
const FileName = "openclaw.toml"

// StateDir returns the state directory: $OPENCLAW_STATE_DIR, else
// ~/.openclaw. The path is absolute; it may not exist yet.
func StateDir() (string, error) {
	if d := os.Getenv(EnvStateDir); d != "" {
		return absPath(d)
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("cannot find the home directory: set HOME or " + EnvStateDir)
	}
	return filepath.Join(home, ".openclaw"), nil
}

// FilePath returns the config file in use: $OPENCLAW_CONFIG_PATH, else
// <state dir>/openclaw.toml. The path is absolute; the file may not exist.
func FilePath() (string, error) {
	if f := os.Getenv(EnvConfigPath); f != "" {
		return absPath(f)
	}
	d, err := StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, FileName), nil
}

// absPath expands a leading ~ and makes p absolute.
func absPath(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return "", errors.New("cannot expand ~: set HOME")
		}
		p = filepath.Join(home, p[1:])
	}
	return filepath.Abs(p)
}
