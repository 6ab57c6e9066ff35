package fakes

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

var accredSciperRe = regexp.MustCompile(`^[0-9A-Za-z-]{1,32}$`)

// Accred is a fake of the Accred API (docs/jobs.md §9.3) serving the fixture
// files of a directory (units.json, persons/<sciper>.json,
// authorizations/<sciper>.json):
//
//	GET .../units?pageindex=n&pagesize=m   paging over units.json
//	GET .../persons/{sciper}               404 when no fixture
//	GET .../authorizations?persid={sciper} {"authorizations":[],"count":0} when no fixture
//
// Every request needs the configured Basic credentials (else 401). Anything
// before /units, /persons or /authorizations in the path is ignored, so the
// fake can be mounted under a prefix. SetTruncateUnits makes /units return
// half the list (suspicious_unit_count); FailNext makes the next n requests
// answer 503. Accred is safe for concurrent use.
type Accred struct {
	dir, user, pass string

	mu       sync.Mutex
	truncate bool
	failLeft int
	requests int
}

// NewAccred serves the fixtures of dir with the given Basic credentials.
func NewAccred(dir, username, password string) *Accred {
	return &Accred{dir: dir, user: username, pass: password}
}

// SetTruncateUnits switches the truncated /units list on or off.
func (a *Accred) SetTruncateUnits(on bool) { a.mu.Lock(); a.truncate = on; a.mu.Unlock() }

// FailNext makes the next n requests fail with 503.
func (a *Accred) FailNext(n int) { a.mu.Lock(); a.failLeft = n; a.mu.Unlock() }

// Requests returns the number of authenticated requests served.
func (a *Accred) Requests() int { a.mu.Lock(); defer a.mu.Unlock(); return a.requests }

func (a *Accred) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != a.user || p != a.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="accred"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	a.requests++
	fail := a.failLeft > 0
	if fail {
		a.failLeft--
	}
	truncate := a.truncate
	a.mu.Unlock()
	if fail {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/units"):
		a.units(w, r, truncate)
	case strings.Contains(path, "/persons/"):
		sciper := path[strings.LastIndex(path, "/persons/")+len("/persons/"):]
		a.file(w, filepath.Join("persons", sciper+".json"), sciper, "")
	case strings.HasSuffix(path, "/authorizations"):
		sciper := r.URL.Query().Get("persid")
		a.file(w, filepath.Join("authorizations", sciper+".json"), sciper, `{"authorizations":[],"count":0}`)
	default:
		http.NotFound(w, r)
	}
}

func (a *Accred) file(w http.ResponseWriter, rel, sciper, missing string) {
	if !accredSciperRe.MatchString(sciper) {
		http.Error(w, "bad sciper", http.StatusBadRequest)
		return
	}
	b, err := os.ReadFile(filepath.Join(a.dir, rel)) //nolint:gosec // sciper checked against accredSciperRe above
	if os.IsNotExist(err) {
		if missing == "" {
			http.NotFound(w, nil)
			return
		}
		b = []byte(missing)
	} else if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b) //nolint:gosec // fixture JSON served as application/json
}

func (a *Accred) units(w http.ResponseWriter, r *http.Request, truncate bool) {
	b, err := os.ReadFile(filepath.Join(a.dir, "units.json"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var doc struct {
		Units []json.RawMessage `json:"units"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	units := doc.Units
	if truncate {
		units = units[:len(units)/2]
	}
	page, err1 := strconv.Atoi(r.URL.Query().Get("pageindex"))
	size, err2 := strconv.Atoi(r.URL.Query().Get("pagesize"))
	if err1 != nil || err2 != nil || page < 0 || size < 1 || size > 1000 {
		http.Error(w, fmt.Sprintf("bad paging %q %q", r.URL.Query().Get("pageindex"), r.URL.Query().Get("pagesize")), http.StatusBadRequest)
		return
	}
	start := min(page*size, len(units))
	end := min(start+size, len(units))
	w.Header().Set("Content-Type", "application/json")
	out, err := json.Marshal(struct {
		Count int               `json:"count"`
		Units []json.RawMessage `json:"units"`
	}{Count: len(units), Units: units[start:end]})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(out)
}
