//go:build linux

package crash

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// mountTmpfs mounts a tmpfs of size bytes on a new temporary folder and
// unmounts it when the test ends, or skips the test when this process may
// not mount (it needs root with CAP_SYS_ADMIN, which some CI containers
// do not grant).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill up (%v): a real full disk needs root with CAP_SYS_ADMIN; "+
			"without it the full-disk path is not tested here", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount the tmpfs at %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file in dir until the file system is full, then shrinks
// it to leave about room bytes free.
func fill(t *testing.T, dir string, room int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var size int64
	for {
		n, err := f.Write(chunk)
		size += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatalf("fill %s: %v", dir, err)
		}
	}
	if err := f.Truncate(max(0, size-room)); err != nil {
		t.Fatal(err)
	}
	return path
}

type reply struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, method, url, contentType, key, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// TestFullDiskRefusesWritesWithAClearMessageAndLosesNothing serves a
// database on a small tmpfs that is then filled: a batch of customer
// ratings and an answer that no longer fit are refused with 503,
// Retry-After and a message saying the disk is full and nothing was saved,
// while the server keeps running and answering; once space is freed the
// same requests are taken, and the file holds each once, nothing of the
// refused attempts, and passes PRAGMA integrity_check.
func TestFullDiskRefusesWritesWithAClearMessageAndLosesNothing(t *testing.T) {
	skipShort(t)
	dir := mountTmpfs(t, 4<<20)
	o := seedIn(t, dir, 40)
	filler := fill(t, dir, 96<<10)
	srv := startServer(t, o.path, nil)

	// A batch much larger than the room left.
	comment := strings.Repeat("The agent solved it quickly. ", 60)
	var sb strings.Builder
	sb.WriteString(`{"source":"fulldisk","metric":"csat","ratings":[`)
	const batch = 600
	// Dated from the machine's clock, the one the tandem process under test
	// runs on.
	at := tandem.Today(time.Now()).AddDate(0, 0, -2).Add(10 * time.Hour).Format(time.RFC3339)
	for i := 0; i < batch; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"r%d","occurred_at":%q,"score":4,"unit_path":"Acme/Support","comment":%q}`, i, at, comment)
	}
	sb.WriteString("]}")
	ratingsURL := srv.url() + "/api/v1/customer-ratings"
	r := send(t, http.MethodPost, ratingsURL, "application/json", o.apiKey, sb.String())
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "disk is full") || !strings.Contains(r.body, "nothing was saved") {
		t.Errorf("a batch that does not fit on the disk: %d %.400s\nwant 503 saying the disk is full and nothing was saved", r.status, r.body)
	}
	if r.header.Get("Retry-After") == "" {
		t.Errorf("the 503 for a full disk has no Retry-After header")
	}
	t.Logf("batch on a full disk: %d %s", r.status, r.body)

	// Answers go in until the disk is full; the first that does not fit
	// is refused with the message.
	accepted, refused := 0, -1
	for i, token := range o.tokens {
		r := send(t, http.MethodPost, srv.url()+"/p/"+token, "application/x-www-form-urlencoded", "", o.form)
		if r.status == http.StatusOK {
			accepted++
			continue
		}
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "disk is full") || r.header.Get("Retry-After") == "" {
			t.Fatalf("answer %d on a full disk: %d (Retry-After %q) %.600s\nwant 503 with Retry-After, saying the disk is full", i, r.status, r.header.Get("Retry-After"), r.body)
		}
		refused = i
		break
	}
	if refused < 0 {
		t.Fatalf("all %d answers fitted in the room left: the test did not fill the disk", len(o.tokens))
	}
	t.Logf("%d answers fitted before the disk was full; answer %d was refused", accepted, refused)
	if r := send(t, http.MethodGet, srv.url()+"/readyz", "", "", ""); r.status != http.StatusOK {
		t.Errorf("GET /readyz with a full disk: %d, want 200 (reads still work)", r.status)
	}

	// Room again: the same requests are taken.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if r := send(t, http.MethodPost, srv.url()+"/p/"+o.tokens[refused], "application/x-www-form-urlencoded", "", o.form); r.status != http.StatusOK {
		t.Errorf("the refused answer, sent again with room on the disk: %d %.300s, want 200", r.status, r.body)
	}
	if r := send(t, http.MethodPost, ratingsURL, "application/json", o.apiKey, sb.String()); r.status != http.StatusOK ||
		!strings.Contains(r.body, fmt.Sprintf(`"accepted":%d`, batch)) {
		t.Errorf("the refused batch, sent again with room on the disk: %d %.300s, want 200 with all %d accepted", r.status, r.body, batch)
	}
	srv.stop(t)

	db := openDB(t, o.path)
	defer db.Close()
	checkIntegrity(t, db)
	if n := o.checkResponses(t, db); n != accepted+1 {
		t.Errorf("%d responses stored, want %d (those acknowledged)", n, accepted+1)
	}
	answered := responded(t, db, o.roundID)
	for i := 0; i <= refused; i++ {
		if !answered[o.invitations[i]] {
			t.Errorf("invitation %d is not marked answered", o.invitations[i])
		}
	}
	if n := count(t, db, "SELECT COUNT(*) FROM csat_events WHERE source = 'fulldisk'"); n != batch {
		t.Errorf("%d ratings of the batch stored, want %d (once)", n, batch)
	}
	if n := count(t, db, "SELECT COALESCE(SUM(n), 0) FROM csat_totals WHERE kind = 'W'"); n != batch {
		t.Errorf("the weekly totals count %d ratings, want %d", n, batch)
	}
}
