// Package proc starts and stops `tandem serve` for the load programs, and
// measures the CPU they use.
package proc

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// CPUTime is the CPU this process has used (user and system).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Server is a running `tandem serve`.
type Server struct {
	Cmd    *exec.Cmd
	Addr   string
	Ready  time.Duration
	logs   *bytes.Buffer
	exited chan error
}

func StartServer(dir, bin, db string) (*Server, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: addr, logs: &bytes.Buffer{}, exited: make(chan error, 1)}
	s.Cmd = Command(dir, bin, "serve", "--db", db, "--addr", addr, "--rate-limit", "0", "--log-level", "warn")
	s.Cmd.Stdout, s.Cmd.Stderr = s.logs, s.logs
	t0 := time.Now()
	if err := s.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.exited <- s.Cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-s.exited:
			return nil, fmt.Errorf("tandem serve exited before it was ready (%v):\n%s", err, s.logs.String())
		default:
		}
		if time.Since(t0) > 30*time.Second {
			s.Stop()
			return nil, fmt.Errorf("/readyz did not answer 200 within 30 s:\n%s", s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Ready = time.Since(t0)
	return s, nil
}

func (s *Server) Stop() {
	s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.Cmd.Process.Kill()
		<-s.exited
	}
	if s.logs.Len() > 0 {
		fmt.Printf("server log (warnings and errors):\n%s", Indent(s.logs.String()))
	}
}

func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func Command(dir, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	// The benchmark's flags decide; the caller's TANDEM_* settings must not.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TANDEM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

// Indent indents every line of s for printing under a heading.
func Indent(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}
