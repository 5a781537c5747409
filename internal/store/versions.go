package store

import "context"

// The released-data version (table data_versions) says when what reports
// read has changed: released round results and customer totals. Every
// transaction that changes them calls tx.bumpReleased, so a report cached
// under a version is good while the version stands (report.CorrelationLoader).
// Answers to open rounds do not move it: their results are released only
// when the round closes.

// ReleasedVersion returns the version of the released data.
func (s *Store) ReleasedVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.queryRow(ctx, s.r, "SELECT version FROM data_versions WHERE name = 'released'").Scan(&v)
	return v, s.wrapErr(err)
}

// bumpReleased moves the released-data version on, in the transaction
// that changes the data.
func (tx *Tx) bumpReleased(ctx context.Context) error {
	_, err := tx.s.exec(ctx, tx.tx, "UPDATE data_versions SET version = version + 1 WHERE name = 'released'")
	return err
}
