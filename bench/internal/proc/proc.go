// Package proc starts and stops `tandem serve` for the load programs, and
// measures the CPU they use.
package proc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tandem-hq/tandem/internal/testbin"
)

// CPUTime is the CPU this process has used (user and system).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ProcessCPU is the CPU process pid has used (user and system), from
// /proc/PID/stat; ok is false when it cannot be read. Ticks are taken to
// be 1/100 s (USER_HZ on Linux).
func ProcessCPU(pid int) (d time.Duration, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	var utime, stime int64
	if _, err := fmt.Sscan(f[11], &utime); err != nil {
		return 0, false
	}
	if _, err := fmt.Sscan(f[12], &stime); err != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// Server is a running `tandem serve`.
type Server struct{ *testbin.Server }

// StartServer starts `tandem serve` on db (logging warnings to
// dir/serve.log, no rate limit) and waits until /readyz answers 200.
// extra flags are added to the command line.
func StartServer(dir, bin, db string, extra ...string) (*Server, error) {
	s, err := testbin.Serve(testbin.ServeOptions{Bin: bin, DB: db, Dir: dir, Log: filepath.Join(dir, "serve.log"),
		Args: append([]string{"--rate-limit", "0", "--log-level", "warn"}, extra...)})
	if err != nil {
		return nil, err
	}
	return &Server{s}, nil
}

// Stop stops the server with SIGTERM (SIGKILL after 15 s) and prints
// what it logged.
func (s *Server) Stop() {
	if err := s.Server.Stop(15 * time.Second); err != nil {
		fmt.Printf("stop the server: %v\n", err)
	}
	if b, _ := os.ReadFile(s.Log); len(b) > 0 {
		fmt.Printf("server log (warnings and errors):\n%s", Indent(string(b)))
	}
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr() (string, error) { return testbin.FreeAddr() }

// Command is name run with args in dir, without the caller's TANDEM_*
// settings: the benchmark's flags decide.
func Command(dir, name string, args ...string) *exec.Cmd { return testbin.Command(dir, name, args...) }

// Indent indents every line of s for printing under a heading.
func Indent(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}
