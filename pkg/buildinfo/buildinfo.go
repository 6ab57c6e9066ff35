// Package buildinfo carries the version stamped at link time
// (-ldflags "-X .../pkg/buildinfo.Version=... -X .../pkg/buildinfo.GitSHA=...").
package buildinfo

import "runtime/debug"

var (
	// Version is the release version.
	Version = "dev"
	// GitSHA is the commit the binary was built from.
	GitSHA = ""
	// BuildTime is the RFC 3339 build time.
	BuildTime = ""
)

// SHA returns GitSHA, falling back to the VCS information Go embeds.
func SHA() string {
	if GitSHA != "" {
		return GitSHA
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
