package web

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs eight of the package's tests at once unless -parallel
// says otherwise. Each test has its own server and database, and many
// spend much of their time waiting (on sockets, on a held SQLite lock,
// on a busy timeout) rather than on the CPU, so go test's default of one
// test per core leaves a two-core machine idle while they wait.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", "8"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
