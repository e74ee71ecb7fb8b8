package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/sipedge/sipedge/config"
	"github.com/sipedge/sipedge/edgeapp"
)

// loadConfig loads path, or returns the embedded defaults when path is empty.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

func serveCmd(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("edge", e)
	cfgPath := fs.String("config", "", "configuration file (YAML); embedded defaults when empty")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + fs.Arg(0)}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	edgeapp.SetupProcess(cfg, e.stderr)
	app, err := edgeapp.New(cfg, e.stdout, e.stderr)
	if err != nil {
		return err
	}
	app.Banner()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				newCfg, err := loadConfig(*cfgPath)
				if err != nil {
					app.Log.Error("reload refused: configuration invalid, keeping the running one", zap.Error(err))
					continue
				}
				if err := app.Reload(newCfg); err != nil {
					app.Log.Error("reload incomplete", zap.Error(err))
				}
			}
		}
	}()
	return app.Run(runCtx)
}
