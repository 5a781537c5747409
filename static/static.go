// Package static holds Tandem's stylesheet, its one small script and its
// icon, embedded in the binary: pages load nothing from any other origin.
package static

import "embed"

// FS serves /static/.
//
//go:embed *.css *.js *.svg
var FS embed.FS
