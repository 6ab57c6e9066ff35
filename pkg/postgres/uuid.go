package postgres

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// RegisterUUID makes m encode github.com/google/uuid.UUID parameters (and
// pointers to them) as the binary uuid they are. Without it pgx falls back
// on the type's driver.Valuer: every value is formatted as a string and
// parsed back (for a pointer, after a failed binary attempt and its
// error), which cost the import's COPY writer 0.3–0.5 s of CPU per 100 000
// entries (one upload_id each, docs/jobs.md §4.1). Scans
// keep uuid.UUID's sql.Scanner, which pgx prefers to any wrapper.
func RegisterUUID(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUIDEncodePlan}, m.TryWrapEncodePlanFuncs...)
}

// pgUUID is uuid.UUID as pgtype's UUIDCodec encodes it.
type pgUUID uuid.UUID

func (u pgUUID) UUIDValue() (pgtype.UUID, error) { return pgtype.UUID{Bytes: u, Valid: true}, nil }

type wrapUUIDEncodePlan struct{ next pgtype.EncodePlan }

func (p *wrapUUIDEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *wrapUUIDEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgUUID(value.(uuid.UUID)), buf) //nolint:forcetypeassert // planned for uuid.UUID only
}

// wrapUUIDPointerEncodePlan encodes a non-nil *uuid.UUID (pgx turns nil
// ones into NULL before planning). pgx does not dereference pointers to a
// driver.Valuer itself: it would call Value, whose string it cannot encode
// in binary, and retry through a text round trip after building an error.
type wrapUUIDPointerEncodePlan struct{ next pgtype.EncodePlan }

func (p *wrapUUIDPointerEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *wrapUUIDPointerEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgUUID(*value.(*uuid.UUID)), buf) //nolint:forcetypeassert // planned for *uuid.UUID only
}

func tryWrapUUIDEncodePlan(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch u := value.(type) {
	case uuid.UUID:
		return &wrapUUIDEncodePlan{}, pgUUID(u), true
	case *uuid.UUID:
		if u != nil {
			return &wrapUUIDPointerEncodePlan{}, pgUUID(*u), true
		}
	}
	return nil, nil, false
}
