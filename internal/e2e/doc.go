// Package e2e holds Tandem's browser journeys: each test serves the real web
// app on a real SQLite file and drives headless Chromium through it the way a
// person would, with chromedp. The package has no code of its own; its tests
// and benchmarks are in the _test.go files.
//
// The journeys need Chromium: its headless shell (Debian: apt-get install -y
// chromium-headless-shell), a third of the CPU a page, or else Chromium
// itself (chromium), in /usr/bin or PATH, or the program TANDEM_TEST_CHROMIUM
// names. Without it they are skipped, unless TANDEM_TEST_REQUIRE_BROWSER=1
// makes a missing browser a failure, as CI does. Under go test -short they
// are skipped too, whatever the environment; the full run keeps them. The
// every-page accessibility journey checks every person's pages with
// axe-core at both widths only with TANDEM_TEST_EVERY_PAGE=1 (CI sets it);
// without it, a cheaper part of the same check (see axe_test.go).
package e2e
