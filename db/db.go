// Package db holds Tandem's SQL migrations, embedded in the binary. Each
// engine has its own numbered, forward-only files under migrations/<engine>/;
// the store applies them in order and records each in schema_migrations.
package db

import "embed"

// Migrations holds migrations/sqlite/NNNN_name.sql (and, for PostgreSQL,
// migrations/postgres/NNNN_name.sql).
//
//go:embed migrations
var Migrations embed.FS
