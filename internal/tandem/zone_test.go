package tandem_test

import (
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestLoadLocationCachesKnownZonesAndRefusesUnknownOnes(t *testing.T) {
	first, err := tandem.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	again, err := tandem.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Error("the second load of Europe/Berlin did not come from the cache")
	}
	if _, err := tandem.LoadLocation("Mars/Olympus_Mons"); err == nil {
		t.Error("an unknown zone loaded")
	}
	if _, err := tandem.LoadLocation("Mars/Olympus_Mons"); err == nil {
		t.Error("an unknown zone loaded on the second try (a failure was cached as a zone)")
	}
}

func TestInZoneShowsWallClockTimeAndFallsBackToUTC(t *testing.T) {
	at := time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC)
	if got := tandem.InZone(at, "Europe/Berlin").Format("15:04 MST"); got != "09:00 CEST" {
		t.Errorf("07:00 UTC in Berlin in July = %s, want 09:00 CEST", got)
	}
	if got := tandem.InZone(at, "Nowhere/Special").Format("15:04 MST"); got != "07:00 UTC" {
		t.Errorf("an unknown zone gave %s, want 07:00 UTC", got)
	}
}

func TestEveryZoneNameOfferedLoads(t *testing.T) {
	if len(tandem.ZoneNames) < 300 {
		t.Fatalf("%d zone names, want the whole tz database's canonical list", len(tandem.ZoneNames))
	}
	seen := map[string]bool{}
	for _, z := range tandem.ZoneNames {
		if seen[z] {
			t.Errorf("zone %s listed twice", z)
		}
		seen[z] = true
		if _, err := tandem.LoadLocation(z); err != nil {
			t.Errorf("zone %s offered but does not load: %v", z, err)
		}
	}
	for _, z := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"} {
		if !seen[z] {
			t.Errorf("zone %s not offered", z)
		}
	}
}
