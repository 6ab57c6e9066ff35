package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/co2-calculator/co2-calculator/pkg/accred"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
)

// Accred is the client of the Accred API for persons and authorizations
// (docs/jobs.md §9.2), and the "accred" role provider.
type Accred struct {
	BaseURL  string
	Username string
	Password string
	Client   *http.Client // its Timeout is ACCRED_TIMEOUT; nil: 30 s
	// LoginTimeout bounds one Resolve at login (5 s; 0 = Client's timeout).
	LoginTimeout time.Duration
}

// Name implements RoleProvider.
func (*Accred) Name() string { return ProviderAccred }

// AccredPerson is GET /persons/{sciper}.
type AccredPerson struct {
	ID       any    `json:"id"` // string or number
	Email    string `json:"email"`
	Display  string `json:"display"`
	Position *struct {
		LabelEn string `json:"labelen"`
	} `json:"position"`
}

// AccredAuthorization is one item of GET /authorizations.
type AccredAuthorization struct {
	Name         string `json:"name"`
	State        string `json:"state"`
	AccredUnitID *int64 `json:"accredunitid"`
	Reason       *struct {
		Resource *struct {
			CF *string `json:"cf"`
		} `json:"resource"`
	} `json:"reason"`
}

// get calls Accred; every failure is ErrUpstream (login answers 503, role_sync retries).
func (a *Accred) get(ctx context.Context, path string, q url.Values, out any) error {
	c := accred.Client{BaseURL: a.BaseURL, Username: a.Username, Password: a.Password, HTTP: a.Client}
	if err := c.Get(ctx, path, q, out); err != nil {
		return fmt.Errorf("%w: %w", ErrUpstream, err)
	}
	return nil
}

// Person fetches one person.
func (a *Accred) Person(ctx context.Context, sciper string) (AccredPerson, error) {
	var p AccredPerson
	err := a.get(ctx, "/persons/"+url.PathEscape(sciper), nil, &p)
	return p, err
}

// Authorizations fetches the active calco2 rights of a person.
func (a *Accred) Authorizations(ctx context.Context, sciper string) ([]AccredAuthorization, error) {
	var body struct {
		Authorizations []AccredAuthorization `json:"authorizations"`
	}
	q := url.Values{"persid": {sciper}, "state": {"active"}, "type": {"right"}, "expand": {"0"}, "searchauthorization": {"calco2."}}
	err := a.get(ctx, "/authorizations", q, &body)
	return body.Authorizations, err
}

// RolesFromAccred maps authorizations to roles (docs/domain.md §2.2): keep
// active rights named after one of the four roles that carry both
// accredunitid and reason.resource.cf.
func RolesFromAccred(auths []AccredAuthorization) []perm.Assignment {
	out := []perm.Assignment{}
	for _, x := range auths {
		if x.State != "active" || x.AccredUnitID == nil || x.Reason == nil || x.Reason.Resource == nil ||
			x.Reason.Resource.CF == nil || *x.Reason.Resource.CF == "" {
			continue
		}
		role := perm.Role(x.Name)
		switch role {
		case perm.RoleAdmin, perm.RoleMetier, perm.RolePrincipal, perm.RoleStandard:
			out = append(out, perm.New(role, *x.Reason.Resource.CF))
		}
	}
	return perm.Normalize(out)
}

// Resolve implements RoleProvider: the person and their authorizations.
func (a *Accred) Resolve(ctx context.Context, id Identity) (Resolved, error) {
	if a.LoginTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.LoginTimeout)
		defer cancel()
	}
	if id.Sciper == "" {
		return Resolved{}, errors.New("accred: no SCIPER in the identity")
	}
	p, err := a.Person(ctx, id.Sciper)
	if err != nil {
		return Resolved{}, err
	}
	auths, err := a.Authorizations(ctx, id.Sciper)
	if err != nil {
		return Resolved{}, err
	}
	r := Resolved{Roles: RolesFromAccred(auths)}
	if p.Email != "" {
		r.Email = &p.Email
	}
	if p.Display != "" {
		r.DisplayName = &p.Display
	}
	fn := "Unknown"
	if p.Position != nil && p.Position.LabelEn != "" {
		fn = p.Position.LabelEn
	}
	r.FunctionTitle = &fn
	return r, nil
}
