package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/audit"
	"github.com/peerline/peerline/internal/localapi"
	"github.com/peerline/peerline/internal/storage"
	bolt "go.etcd.io/bbolt"
)

// backup writes a consistent copy of the database while it is in use.
func backup(ctx context.Context, a *app, _ localapi.Request, out io.Writer) error {
	return a.backup(ctx, out)
}

// backup notes in the audit log who took a copy of everything, then writes it
// (the copy holds that entry too).
func (a *app) backup(ctx context.Context, out io.Writer) error {
	if err := a.db.Update(func(tx *bolt.Tx) error {
		return audit.Record(ctx, tx, time.Now(), "backup", "database", nil)
	}); err != nil {
		return err
	}
	return storage.WriteBackup(a.db, out)
}

// restoreCmd puts a backup in place of the database; the service must be stopped.
func restoreCmd(args []string, stdout io.Writer) error {
	f := newFlags("restore")
	pos, err := f.parse(args, 1)
	if err != nil {
		return err
	}
	cfg, err := config.LoadFile(*f.config)
	if err != nil {
		return err
	}
	switch _, err := localapi.Dial(cfg.DataDir); {
	case err == nil:
		return errors.New("peerline is running on this data_dir: stop it first (systemctl stop peerline); nothing was replaced")
	case !errors.Is(err, localapi.ErrNotRunning):
		return err
	}
	kept, err := storage.Restore(cfg.DataDir, pos[0], time.Now())
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "%s restored into %s\n", pos[0], cfg.DataDir)
	if kept != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s\n", kept)
	}
	return nil
}
