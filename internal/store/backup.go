package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Backup writes a consistent copy of a SQLite database to path while it is
// in use (SQLite's VACUUM INTO reads one snapshot, so writers carry on).
// PostgreSQL is backed up with pg_dump; see docs/deploy.md.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.engine != SQLite {
		return tandem.Errorf(tandem.EINVALID, "tandem backup copies SQLite databases; back up PostgreSQL with pg_dump (see docs/deploy.md)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err == nil {
		return tandem.Errorf(tandem.EINVALID, "%s exists already; choose a new file name (a backup never overwrites)", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if dir := filepath.Dir(abs); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return tandem.Errorf(tandem.EINVALID, "folder %s does not exist", dir)
		}
	}
	if _, err := s.r.ExecContext(ctx, "VACUUM INTO ?", abs); err != nil {
		os.Remove(abs)
		return fmt.Errorf("back up to %s: %w", path, s.wrapErr(err))
	}
	return nil
}
