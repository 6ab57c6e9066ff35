package postgres

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

func TestRegisterUUIDPlansNativeEncoding(t *testing.T) {
	t.Parallel()
	u := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	m := pgtype.NewMap()
	RegisterUUID(m)
	for _, v := range []any{u, &u} {
		plan := m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, v)
		require.NotNil(t, plan)
		if _, isPtr := v.(*uuid.UUID); isPtr {
			require.IsType(t, &wrapUUIDPointerEncodePlan{}, plan, "not through driver.Valuer")
		} else {
			require.IsType(t, &wrapUUIDEncodePlan{}, plan, "not through driver.Valuer")
		}
		buf, err := plan.Encode(v, nil)
		require.NoError(t, err)
		require.Equal(t, u[:], buf)
	}
	// Without it pgx goes through driver.Valuer (the cost RegisterUUID
	// removes).
	_, wrapped := pgtype.NewMap().PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u).(*wrapUUIDEncodePlan)
	require.False(t, wrapped)
}
