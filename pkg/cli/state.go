package cli

import (
	"github.com/openclaw/openclaw-go/pkg/config"
)

// loadedConfig is the config of one invocation and where it came from.
type loadedConfig struct {
	cfg      *config.Config
	path     string
	stateDir string
}

// loadConfig resolves the state dir and config file and loads the config.
// A config that does not load is a configuration error: exit 78.
func (a *App) loadConfig() (*loadedConfig, error) {
	stateDir, err := config.StateDir()
	if err != nil {
		return nil, exitErr(ExitConfig, "%v", err)
	}
	path, err := config.FilePath()
	if err != nil {
		return nil, exitErr(ExitConfig, "%v", err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, exitErr(ExitConfig, "%v\nfix it with 'openclaw config set' or 'openclaw config unset', or check it with 'openclaw config validate'", err)
	}
	a.applyLogConfig(cfg.Logging.Level, cfg.Logging.Format)
	return &loadedConfig{cfg: cfg, path: path, stateDir: stateDir}, nil
}
