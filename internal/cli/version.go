package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is rampart's version, set at build time with
// -ldflags "-X github.com/rampart-ai/rampart/internal/cli.Version=v1.2.3".
var Version = "dev"

func init() {
	register("version", "print rampart's version and the Go version it was built with", runVersion)
}

func runVersion(env *Env) int {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(env.Stdout, "rampart %s%s (%s %s/%s)\n", Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}
