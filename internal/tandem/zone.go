package tandem

import (
	"sync"
	"time"
)

// zones caches the time zones loaded so far: time.LoadLocation reads and
// parses the zone's tzdata on every call, and pages, invitations and
// schedules ask for the same few zones per row and per message.
var zones sync.Map // name → *time.Location

// LoadLocation is time.LoadLocation with a cache of the zones that loaded.
func LoadLocation(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// InZone returns t in the named zone, or in UTC when the name is not a zone
// Tandem knows (a program's zone is checked when it is saved, so this is a
// fallback for rows written by hand).
func InZone(t time.Time, zone string) time.Time {
	loc, err := LoadLocation(zone)
	if err != nil {
		return t.UTC()
	}
	return t.In(loc)
}
