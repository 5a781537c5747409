// Package replicas holds the tests of Tandem running as several replicas on
// one PostgreSQL: each test builds the real `tandem` binary, gives itself a
// schema of its own on the server named by TANDEM_TEST_POSTGRES, starts
// `tandem serve` processes on loopback ports and checks what ends up in the
// database and at a real SMTP listener (internal/mail/mailtest). The
// package has no code of its own; its tests are in the _test.go files.
//
// What the tests establish:
//
//   - three replicas with a program firing every 4 seconds create every
//     scheduled round once and deliver every invitation once, also when the
//     replica running the scheduler freezes across a slot and is killed
//     with SIGKILL (the next leader catches the missed slot up);
//   - when the scheduler's replica is killed while it is sending, nothing
//     is lost, and the only messages that can arrive twice are the few it
//     had handed to the SMTP server without recording it (the outbox
//     delivers at least once);
//   - answers posted for the same link to two replicas at the same moment
//     are stored once, and every acknowledged answer is stored;
//   - a pg_dump of Tandem's schema restores into a new database that
//     Tandem opens as it was.
//
// Without TANDEM_TEST_POSTGRES the tests are skipped with a message. Each
// test has its own schema, and the scheduler's advisory lock is keyed by
// the schema too; the tests still run one after the other, to keep their
// timing on two cores honest.
package replicas
