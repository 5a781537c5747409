package store

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBackupWhileWritingRestoresToAConsistentCopy(t *testing.T) {
	st := newSQLite(t)
	ctx := context.Background()
	p := newProgram(t, st, 20)
	// Keep writing while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		slot := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := st.CreateRound(ctx, &p, slot.AddDate(0, 0, 7*i), false, slot); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	dst := filepath.Join(t.TempDir(), "backup.db")
	if err := st.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if err := st.Backup(ctx, dst); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v, want a refusal", err)
	}
	restored, err := Open(ctx, dst, Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	var check string
	if err := restored.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q (%v)", check, err)
	}
	emps, _ := restored.AllEmployees(ctx)
	rounds, _ := restored.Rounds(ctx, p.ID)
	if len(emps) != 20 || len(rounds) == 0 {
		t.Fatalf("restored copy has %d employees and %d rounds", len(emps), len(rounds))
	}
	// Every restored round is whole: its invitations all came with it.
	for _, r := range rounds {
		if r.Invited != 20 {
			t.Errorf("round %d restored with %d of 20 invitations", r.ID, r.Invited)
		}
	}
}
