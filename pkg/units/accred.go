package units

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/accred"
)

// Accred reads the unit directory of Accred (docs/jobs.md §9.1):
// GET {base}/units?pageindex=n&pagesize=100 with Basic auth, pages from 0
// until the units read reach count or a page is empty.
//
// Failures are classified for the job: a network error, 429 or 5xx is
// transient (ErrUnavailable, retried); 401 and 403 are
// upstream_auth_failed; any other status, a body that is not the
// documented JSON, or a unit without id, name or a level of 1..4 is
// upstream_schema_changed (both permanent).
type Accred struct {
	BaseURL  string
	Username string
	Password string
	Client   *http.Client // its Timeout is ACCRED_TIMEOUT; nil: 30 s
	// PageSize is the page size asked for; 0 means 100.
	PageSize int
}

// Name implements Source.
func (*Accred) Name() string { return ProviderAccred }

// maxPages bounds the paging loop of an answer whose count never comes.
const maxPages = 10_000

// accredUnit is one unit of the answer; other keys are ignored.
type accredUnit struct {
	ID        int64   `json:"id"`
	CF        *string `json:"cf"`
	Name      string  `json:"name"`
	LabelFR   *string `json:"labelfr"`
	LabelEN   *string `json:"labelen"`
	Level     int     `json:"level"`
	ParentID  *int64  `json:"parentid"`
	Ancestors []int64 `json:"ancestors"`
	Path      string  `json:"path"`
	UnitType  *struct {
		Label *string `json:"label"`
	} `json:"unittype"`
	ResponsibleID json.RawMessage `json:"responsibleid"` // string or number
	Responsible   *struct {
		ID      json.RawMessage `json:"id"`
		Email   string          `json:"email"`
		Display string          `json:"display"`
		Canon   string          `json:"canon"`
	} `json:"responsible"`
	EndDate string `json:"enddate"`
}

// activeEndDate is the end date of a unit that has not ended.
const activeEndDate = "0001-01-01T00:00:00Z"

// Fetch implements Source.
func (a *Accred) Fetch(ctx context.Context, progress func(done, total int)) ([]Unit, error) {
	size := a.PageSize
	if size <= 0 {
		size = 100
	}
	var raw []accredUnit
	for page := range maxPages {
		var body struct {
			Count *int         `json:"count"`
			Units []accredUnit `json:"units"`
		}
		if err := a.get(ctx, page, size, &body); err != nil {
			return nil, err
		}
		if body.Count == nil || *body.Count < 0 || body.Units == nil {
			return nil, permanent(ReasonUpstreamSchema, "Accred /units page %d has no count or no units list", page)
		}
		raw = append(raw, body.Units...)
		if progress != nil {
			progress(len(raw), max(*body.Count, len(raw)))
		}
		if len(body.Units) == 0 || len(raw) >= *body.Count {
			break
		}
	}
	return mapAccred(raw)
}

// get reads one page of the directory and classifies a failure for the job
// (see Accred).
func (a *Accred) get(ctx context.Context, page, size int, out any) error {
	q := url.Values{"pageindex": {strconv.Itoa(page)}, "pagesize": {strconv.Itoa(size)}}
	c := accred.Client{BaseURL: a.BaseURL, Username: a.Username, Password: a.Password, HTTP: a.Client}
	err := c.Get(ctx, "/units", q, out)
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("Accred GET /units (page %d)", page)
	switch kind, detail := accred.Classify(err); kind {
	case accred.Unavailable:
		return unavailable("%s: %s", where, detail)
	case accred.Refused:
		return permanent(ReasonUpstreamAuth, "%s: Accred %s", where, detail)
	default:
		return permanent(ReasonUpstreamSchema, "%s: %s", where, detail)
	}
}

// mapAccred maps the answer (docs/jobs.md §9.1 "Mapping"); duplicates of an
// id keep the first occurrence.
func mapAccred(raw []accredUnit) ([]Unit, error) {
	names := make(map[string]string, len(raw))
	for _, u := range raw {
		names[strconv.FormatInt(u.ID, 10)] = u.Name
	}
	seen := make(map[int64]bool, len(raw))
	out := make([]Unit, 0, len(raw))
	for i, u := range raw {
		switch {
		case u.ID <= 0:
			return nil, permanent(ReasonUpstreamSchema, "Accred unit %d of the answer has no id", i)
		case strings.TrimSpace(u.Name) == "":
			return nil, permanent(ReasonUpstreamSchema, "Accred unit %d has no name", u.ID)
		case u.Level < 1 || u.Level > 4:
			return nil, permanent(ReasonUpstreamSchema, "Accred unit %d has level %d (want 1..4)", u.ID, u.Level)
		}
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		code := strconv.FormatInt(u.ID, 10)
		m := Unit{Code: code, Name: strings.TrimSpace(u.Name), LabelEN: nonEmpty(u.LabelEN), LabelFR: nonEmpty(u.LabelFR),
			Level: int16(u.Level), Active: u.EndDate == "" || u.EndDate == activeEndDate}
		if u.CF != nil && *u.CF != "" && *u.CF != "0" {
			m.CF = new(strings.TrimSpace(*u.CF))
		}
		if u.ParentID != nil && *u.ParentID > 0 && *u.ParentID != u.ID {
			m.ParentCode = strconv.FormatInt(*u.ParentID, 10)
		}
		for _, a := range u.Ancestors {
			if a > 0 && a != u.ID {
				m.AncestorCodes = append(m.AncestorCodes, strconv.FormatInt(a, 10))
			}
		}
		if m.ParentCode != "" && (len(m.AncestorCodes) == 0 || m.AncestorCodes[len(m.AncestorCodes)-1] != m.ParentCode) {
			// The ancestors must end with the parent: trust the parent.
			m.AncestorCodes = append(m.AncestorCodes, m.ParentCode)
		}
		if parts := strings.Fields(u.Path); len(parts) == len(m.AncestorCodes)+1 {
			m.PathNames = parts
		} else {
			for _, c := range m.AncestorCodes {
				m.PathNames = append(m.PathNames, names[c])
			}
			m.PathNames = append(m.PathNames, m.Name)
		}
		if u.UnitType != nil {
			m.TypeLabel = nonEmpty(u.UnitType.Label)
		}
		if sciper := personID(u.ResponsibleID); sciper != "" && sciper != "0" && u.Responsible != nil {
			m.PrincipalSciper = &sciper
			m.PrincipalName = nonEmpty(&u.Responsible.Display)
			m.PrincipalEmail = nonEmpty(&u.Responsible.Email)
		}
		out = append(out, m)
	}
	return out, nil
}

// personID reads a person id given as a JSON string or number.
func personID(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String()
	}
	return ""
}

func nonEmpty(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return new(strings.TrimSpace(*s))
}

// IsUnavailable reports whether err is a transient directory failure.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
