package httpapi

import "time"

// epoch is the fake clocks' start in this package's tests.
var epoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
