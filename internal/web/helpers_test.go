package web

import (
	"strconv"
	"time"

	"github.com/tandem-hq/tandem/internal/tandemtest"
)

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

// timeNow is the tests' "now": the kit's fixed date, which newTestApp's
// store and server clocks also stand still at, so a test's rounds, periods
// and start dates do not depend on the day the suite runs.
func timeNow() time.Time { return tandemtest.Date }
