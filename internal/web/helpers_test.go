package web

import (
	"strconv"
	"time"
)

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }

func timeNow() time.Time { return time.Now() }
