package httpapi_test

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/httpapi"
	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

// apiDocRow is an operation row of docs/api.md: "| METHOD | `/path` |
// permission | notes | served |".
var apiDocRow = regexp.MustCompile("^\\| (GET|POST|PUT|PATCH|DELETE) \\| `([^`]+)` \\|(.*)\\|\\s*$")

// docOperations parses the operation rows of an API document: each
// operation with whether the document says it is served.
func docOperations(t *testing.T, doc []byte) map[route]bool {
	t.Helper()
	ops := map[route]bool{}
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		m := apiDocRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		r := route{Method: m[1], Path: m[2]}
		require.NotContains(t, ops, r, "%s is documented twice", r)
		require.False(t, strings.ContainsAny(r.Path, "? "), "%s: the path column holds the path only", r)
		cells := strings.Split(m[3], "|")
		served := strings.TrimSpace(cells[len(cells)-1])
		require.Contains(t, []string{"yes", "not yet"}, served, "%s: the last column says whether it is served", r)
		ops[r] = served == "yes"
	}
	require.NoError(t, sc.Err())
	return ops
}

// checkAPIDocument compares the router, the document and the not-yet-served
// list; it returns the problems found.
func checkAPIDocument(router map[route]bool, doc map[route]bool, notYet []string) []string {
	var problems []string
	pending := map[route]bool{}
	for _, s := range notYet {
		method, path, _ := strings.Cut(s, " ")
		r := route{Method: method, Path: path}
		if pending[r] {
			problems = append(problems, r.String()+" is listed twice in NotYetServed")
		}
		pending[r] = true
	}
	for r := range router {
		if _, ok := doc[r]; !ok {
			problems = append(problems, r.String()+" is routed but not documented in docs/api.md")
		}
		if pending[r] {
			problems = append(problems, r.String()+" is routed: remove it from NotYetServed")
		}
	}
	for r, served := range doc {
		switch {
		case router[r] && !served:
			problems = append(problems, r.String()+" is routed: mark it served (yes) in docs/api.md")
		case !router[r] && served:
			problems = append(problems, r.String()+" is marked served in docs/api.md but not routed")
		case !router[r] && !pending[r]:
			problems = append(problems, r.String()+" is neither routed nor listed in NotYetServed")
		}
	}
	for r := range pending {
		if _, ok := doc[r]; !ok {
			problems = append(problems, r.String()+" is in NotYetServed but not documented in docs/api.md")
		}
	}
	slices.Sort(problems)
	return problems
}

// Every operation of docs/api.md is either served by the router or listed
// in httpapi.NotYetServed (never both), and every route is documented: the
// missing routes are visible in one place.
func TestAPIDocument(t *testing.T) {
	t.Parallel()

	t.Run("MatchesRouter", func(t *testing.T) {
		t.Parallel()
		b, err := os.ReadFile("../../docs/api.md")
		require.NoError(t, err)
		doc := docOperations(t, b)
		require.Greater(t, len(doc), 80, "docs/api.md operation rows")
		routes := routerRoutes(t, httpapi.Routes(httpapi.Deps{Logger: testdb.QuietLogger(), Ready: ready}))
		require.Empty(t, checkAPIDocument(routes, doc, httpapi.NotYetServed))
	})

	// The check fails in every direction.
	t.Run("DriftDetected", func(t *testing.T) {
		t.Parallel()
		doc := docOperations(t, []byte("| Method | Path | Permission | Notes | Served |\n|---|---|---|---|---|\n"+
			"| GET | `/a` | auth | x | yes |\n"+
			"| GET | `/b` | auth | x | not yet |\n"+
			"| POST | `/c` | auth | x | not yet |\n"+
			"| PUT | `/d` | auth | x | yes |\n"+
			"| DELETE | `/e` | auth | x | not yet |\n"))
		router := map[route]bool{{"GET", "/a"}: true, {"POST", "/c"}: true, {"GET", "/undocumented"}: true}
		require.Equal(t, []string{
			"DELETE /e is neither routed nor listed in NotYetServed",
			"GET /b is listed twice in NotYetServed",
			"GET /undocumented is routed but not documented in docs/api.md",
			"PATCH /gone is in NotYetServed but not documented in docs/api.md",
			"POST /c is routed: mark it served (yes) in docs/api.md",
			"POST /c is routed: remove it from NotYetServed",
			"PUT /d is marked served in docs/api.md but not routed",
		}, checkAPIDocument(router, doc, []string{"GET /b", "GET /b", "POST /c", "PATCH /gone"}))
	})
}
