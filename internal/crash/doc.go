// Package crash holds the tests of what Tandem keeps when its process dies
// or its disk fills: each test builds the real `tandem` binary, seeds a
// SQLite file in a temporary folder (`tandem import roster`, then a round
// and an API key through the store while no server runs), starts
// `tandem serve` processes on loopback ports, and checks the file
// afterwards with the server stopped. The package has no code of its own;
// its tests are in the _test.go files.
//
// What the tests establish:
//
//   - a server killed with SIGKILL at random moments under a load of
//     answers and customer-rating batches, then restarted, several times,
//     keeps every answer and batch it acknowledged with a 2xx; no
//     invitation has two responses, no rating is stored twice, no batch is
//     stored in part, the running totals match the rows, and the file
//     passes PRAGMA integrity_check; answers whose response was lost can
//     be sent again and get 200 or 409, never a second response;
//   - when the disk is full, answers and rating batches are refused with
//     503, Retry-After and a message that says the disk is full and nothing
//     was saved; once there is room again they are taken, and nothing of
//     the refused requests was written.
//
// The tests are skipped with -short. They bound their own time: the kill
// loop runs a few cycles of under a second each.
package crash
