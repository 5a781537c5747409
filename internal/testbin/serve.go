package testbin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Env is this process's environment without TANDEM_* settings: the flags
// a test or benchmark passes decide, not the developer's shell.
func Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TANDEM_") {
			env = append(env, kv)
		}
	}
	return env
}

// Command is the binary bin run with args in dir, with Env.
func Command(dir, bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = Env()
	return cmd
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ServeOptions says how to start `tandem serve`.
type ServeOptions struct {
	// Bin is the tandem binary (Build).
	Bin string
	// DB is the --db flag: a SQLite path or a PostgreSQL URL.
	DB string
	// Args are the flags after --db and --addr (--rate-limit, --log-level…).
	Args []string
	// Env is added to Env() for the child.
	Env []string
	// Dir is the child's working directory ("" is this process's).
	Dir string
	// Log is the file the child's stdout and stderr go to; required.
	Log string
	// Ready bounds the wait for GET /readyz to answer 200 (default 30 s).
	Ready time.Duration
	// Poll is the time between two GET /readyz (default 10 ms).
	Poll time.Duration
}

// Server is a running `tandem serve`.
type Server struct {
	Addr string
	Cmd  *exec.Cmd
	// Log is the file with the child's output.
	Log string
	// Ready is the time from starting the process to the first 200 from
	// GET /readyz.
	Ready   time.Duration
	started time.Time
	done    chan struct{}
	err     error
}

var errAddrInUse = errors.New("address already in use")

var logSeq atomic.Int64

// Serve starts `tandem serve` on a free loopback port and waits until GET
// /readyz answers 200. A port picked free can be taken before the child
// binds it; then Serve starts again on another, up to three times. On
// Linux the child is killed when this process dies.
func Serve(o ServeOptions) (*Server, error) {
	if o.Ready == 0 {
		o.Ready = 30 * time.Second
	}
	if o.Poll == 0 {
		o.Poll = 10 * time.Millisecond
	}
	if o.Log == "" {
		return nil, errors.New("testbin.Serve: no log file given")
	}
	for attempt := 0; ; attempt++ {
		s, err := launch(o, attempt)
		if err != nil {
			return nil, err
		}
		err = s.waitReady(o.Ready, o.Poll)
		if err == nil {
			return s, nil
		}
		s.Kill()
		if attempt < 2 && errors.Is(err, errAddrInUse) {
			continue
		}
		return nil, err
	}
}

func launch(o ServeOptions, attempt int) (*Server, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	log := o.Log
	if attempt > 0 {
		log = fmt.Sprintf("%s.%d", o.Log, logSeq.Add(1))
	}
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--db", o.DB, "--addr", addr}, o.Args...)
	s := &Server{Addr: addr, Log: log, done: make(chan struct{})}
	s.Cmd = Command(o.Dir, o.Bin, args...)
	s.Cmd.Env = append(s.Cmd.Env, o.Env...)
	s.Cmd.Stdout, s.Cmd.Stderr = f, f
	dieWithParent(s.Cmd)
	s.started = time.Now()
	if err := s.Cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start tandem serve: %w", err)
	}
	go func() {
		s.err = s.Cmd.Wait()
		f.Close()
		close(s.done)
	}()
	return s, nil
}

// waitReady polls GET /readyz until it answers 200.
func (s *Server) waitReady(timeout, poll time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := s.started.Add(timeout)
	for {
		resp, err := client.Get(s.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Ready = time.Since(s.started)
				return nil
			}
		}
		select {
		case <-s.done:
			log := s.Tail(20)
			if strings.Contains(log, "address already in use") {
				return fmt.Errorf("%w: %s", errAddrInUse, s.Addr)
			}
			return fmt.Errorf("tandem serve exited before it was ready (%v):\n%s", s.err, log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz on %s did not answer 200 within %s:\n%s", s.Addr, timeout, s.Tail(20))
		}
		time.Sleep(poll)
	}
}

// URL is the server's base address, without a trailing slash.
func (s *Server) URL() string { return "http://" + s.Addr }

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the process's exit error (nil for a clean exit), once Done is
// closed.
func (s *Server) Err() error {
	<-s.done
	return s.err
}

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (s *Server) Signal(sig os.Signal) error { return s.Cmd.Process.Signal(sig) }

// Kill ends the process with SIGKILL (also when it is stopped) and waits
// up to 10 s for it.
func (s *Server) Kill() {
	if s.Exited() {
		return
	}
	s.Cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// Stop sends SIGTERM and waits for the process to exit, as a service
// manager would; after timeout it kills it. It returns the exit error (nil
// for a clean exit).
func (s *Server) Stop(timeout time.Duration) error {
	if s.Exited() {
		return fmt.Errorf("tandem serve had already exited: %v", s.err)
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.err
	case <-time.After(timeout):
		s.Kill()
		return fmt.Errorf("tandem serve did not stop within %s of SIGTERM; killed", timeout)
	}
}

// Tail is the last n lines of the server's log.
func (s *Server) Tail(n int) string { return Tail(s.Log, n) }

// Tail returns the last n lines of a file.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ServeT is Serve for a test: it fails the test if the server does not
// become ready, kills the process when the test ends, and on failure logs
// the end of the server's log. o.Log defaults to a file in t.TempDir().
func ServeT(t testing.TB, o ServeOptions) *Server {
	t.Helper()
	if o.Log == "" {
		o.Log = t.TempDir() + "/serve.log"
	}
	s, err := Serve(o)
	if err != nil {
		t.Fatalf("tandem serve: %v", err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("--- tandem serve (%s, pid %d) log, last lines:\n%s", s.Addr, s.Cmd.Process.Pid, s.Tail(40))
		}
	})
	return s
}
