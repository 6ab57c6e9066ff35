// Package layering_test holds TestLayering, the import rules of the module
// (docs/architecture.md §3.3): infrastructure below the domain, the domain
// below its adapters. It checks transitive dependencies, so a rule cannot be
// dodged through an intermediate package.
package layering_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/co2-calculator/co2-calculator/"

// foundation is what infrastructure packages may build on.
var foundation = []string{"migrations", "pkg/apperr", "pkg/notifycache", "pkg/postgres", "pkg/postgres/dbsqlc"}

// allowed lists, for the packages below the domain, every module package
// they may depend on (transitively); anything else is a layering error.
var allowed = map[string][]string{
	"pkg/emission":        {}, // the pure engine: no I/O, no other package of ours
	"pkg/apperr":          {},
	"pkg/auth/perm":       {},
	"pkg/blob":            {},
	"pkg/accred":          {}, // the Accred HTTP client: no package of ours
	"pkg/buildinfo":       {},
	"pkg/notifycache":     {}, // the map behind the notification-fed caches: no package of ours
	"pkg/postgres/dbsqlc": {},
	"pkg/postgres":        {"migrations", "pkg/postgres/dbsqlc"},
	"pkg/audit":           foundation, // the hash-chained writer imports no domain package
	"pkg/pipeline":        append(slices.Clone(foundation), "pkg/audit"),
	"pkg/auth":            append(slices.Clone(foundation), "pkg/audit", "pkg/auth/perm", "pkg/accred"),
	"pkg/ingest":          {"pkg/emission"},

	// pkg/years is the home of the years (lifecycle rule, API, setup run)
	// on top of the unit directory (pkg/units): never the domain packages
	// that ask it for the year rule (report, entry, imports, calc).
	"pkg/years": append(slices.Clone(foundation), "pkg/audit", "pkg/pipeline", "pkg/blob", "pkg/emission", "pkg/ingest",
		"pkg/units", "pkg/auth", "pkg/auth/perm", "pkg/accred"),
	"pkg/units": append(slices.Clone(foundation), "pkg/audit", "pkg/auth", "pkg/auth/perm", "pkg/accred"),
}

// adapters are what no package under pkg/ may depend on.
var adapters = []string{"jobs", "pkg/httpapi", "cmd/"}

type listed struct {
	ImportPath string
	Deps       []string
}

func TestLayering(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-json", "-deps=false", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())

	pkgs := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		var own []string
		for _, d := range p.Deps {
			if rel, ok := strings.CutPrefix(d, module); ok {
				own = append(own, rel)
			}
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = own
	}
	require.Contains(t, pkgs, "pkg/audit", "go list saw the module")

	for pkg, deps := range pkgs {
		if may, ok := allowed[pkg]; ok {
			for _, d := range deps {
				require.Contains(t, may, d, "%s must not depend on %s (layering: see layering_test.go)", pkg, d)
			}
		}
		if strings.HasPrefix(pkg, "pkg/") && pkg != "pkg/httpapi" {
			for _, d := range deps {
				for _, a := range adapters {
					require.False(t, d == a || strings.HasPrefix(d, a), "%s must not depend on the adapter %s", pkg, d)
				}
			}
		}
	}
	for pkg := range allowed {
		require.Contains(t, pkgs, pkg, "a rule names a package that no longer exists")
	}
}
