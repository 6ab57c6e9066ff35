package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/auth"
	"github.com/co2-calculator/co2-calculator/pkg/auth/perm"
	"github.com/co2-calculator/co2-calculator/pkg/imports"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// POST /uploads/copy (docs/api.md §9): re-import a previous upload's file
// for another year (imports.Service.Copy).
//
// Permission: bo(configuration, edit); for a unit-scope source also
// module_sync on the source's unit and module — whoever may upload that
// unit's module file today (POST P/uploads) may copy it.

// copyUploadRequest is the body of POST /uploads/copy.
type copyUploadRequest struct {
	SourceUploadID *string `json:"source_upload_id"`
	Year           *int64  `json:"year"`
}

// fieldSourceUploadID names the source in field errors.
const fieldSourceUploadID = "source_upload_id"

func (req copyUploadRequest) validate() (uuid.UUID, int32, error) {
	field := func(name, code, msg string) error {
		return apperr.Validation(msg, apperr.FieldError{Field: name, Code: code, Message: msg})
	}
	if req.SourceUploadID == nil {
		return uuid.Nil, 0, field(fieldSourceUploadID, "required", "source_upload_id is required")
	}
	id, err := uuid.Parse(*req.SourceUploadID)
	if err != nil {
		return uuid.Nil, 0, field(fieldSourceUploadID, "invalid_format", "source_upload_id must be a UUID")
	}
	if req.Year == nil || !years.Valid(*req.Year) {
		return uuid.Nil, 0, field("year", "required", fmt.Sprintf("year must be a year between %d and %d", years.Min, years.Max))
	}
	return id, int32(*req.Year), nil
}

// requireUploadCopy lets through callers with bo(configuration, edit) and
// callers who may sync (upload) module files of some unit; the handler
// checks the latter against the source's unit. Others get 403 before the
// body is read.
func (s *Server) requireUploadCopy(next http.Handler) http.Handler {
	return s.requireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if !p.Perms.BO(perm.BOConfiguration, perm.ActionEdit) && !syncsSomeUnit(p.Perms) {
			writeError(w, r, s.Logger, errForbidden("backoffice."+perm.BOConfiguration+":"+perm.ActionEdit))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// syncsSomeUnit reports a modules.* sync grant on some unit.
func syncsSomeUnit(ps *perm.Set) bool {
	return slices.ContainsFunc(ps.Grants(), func(g perm.Grant) bool {
		return strings.HasPrefix(g.Resource, "modules.") && g.Scope.Kind == perm.ScopeUnit && slices.Contains(g.Actions, perm.ActionSync)
	})
}

// postUploadCopy is POST /uploads/copy → 202 {upload, pipeline}.
func (s *Server) postUploadCopy(r *http.Request) (response, error) {
	if s.Blob == nil || s.River == nil {
		return response{}, apperr.New(apperr.CodeUnavailable, "uploads are not configured")
	}
	var req copyUploadRequest
	if err := decodeJSON(r, &req); err != nil {
		return response{}, err
	}
	id, year, err := req.validate()
	if err != nil {
		return response{}, err
	}
	ctx := r.Context()
	src, err := s.imports.CopySource(ctx, id)
	if err != nil {
		return response{}, err
	}
	if err := s.authorizeCopy(ctx, principalFrom(ctx), src.Upload); err != nil {
		return response{}, err
	}
	acc, err := s.imports.Copy(ctx, src, year, callerUserID(ctx))
	if err != nil {
		return response{}, err
	}
	return accepted(fromAccepted(acc)), nil
}

// authorizeCopy: bo(configuration, edit), or module_sync on the unit and
// module of a unit-scope source. A caller who may see the source
// (GET /uploads/{id}) but not copy it gets 403; others 404.
func (s *Server) authorizeCopy(ctx context.Context, p *auth.Principal, src dbsqlc.Upload) error {
	if p.Perms.BO(perm.BOConfiguration, perm.ActionEdit) {
		return nil
	}
	if src.Scope == imports.ScopeUnit && src.UnitID != nil && src.Module != nil {
		u, err := s.loadUnit(ctx, *src.UnitID)
		if err != nil && apperr.CodeOf(err) != apperr.CodeNotFound {
			return err
		}
		if err == nil && p.Perms.ModuleSync(u, *src.Module, true) {
			return nil
		}
	}
	if p.Perms.BO(perm.BOConfiguration, perm.ActionView) || (src.UploadedBy != nil && *src.UploadedBy == p.User.ID) {
		return errForbidden("backoffice." + perm.BOConfiguration + ":" + perm.ActionEdit)
	}
	return apperr.NotFound("upload %s not found", src.ID)
}
