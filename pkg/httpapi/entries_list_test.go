package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

type entryListResp struct {
	Items      []entryResp `json:"items"`
	Page       int         `json:"page"`
	Limit      int         `json:"limit"`
	Total      int64       `json:"total"`
	HasMore    bool        `json:"has_more"`
	NextCursor *string     `json:"next_cursor"`
	Summary    struct {
		Count int64 `json:"count"`
	} `json:"summary"`
}

// TestEntryListPagingHTTP: GET …/entries pages by number and by cursor
// (docs/api.md §5): next_cursor on every page but the last, has_more false
// on the last, both walks list the same entries in the same order; a
// cursor with page, under another sort or that is not one is 400
// invalid_cursor, and so is an unknown sort key with a "+" prefix 400
// invalid_sort.
func TestEntryListPagingHTTP(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newModuleFixture(ctx, t)
	members := f.url(f.unitID, f.year, "headcount/member/entries")
	const n = 7
	for i := range n {
		rec := serveEntry(t, f.router, http.MethodPost, members, fmt.Sprintf(
			`{"data": {"name": "Member %d", "sius_code": "53", "user_institutional_id": "%d", "fte": %g}}`, i%3, 700000+i, 0.1*float64(1+i%2)), nil)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	}
	list := func(query string) entryListResp {
		t.Helper()
		rec := serveEntry(t, f.router, http.MethodGet, members+"?"+query, "", nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return decodeEntry[entryListResp](t, rec)
	}
	const sort = "sort=-fte,name"

	var byPage, byCursor []int64
	for page := 1; ; page++ {
		res := list(sort + "&limit=3&page=" + strconv.Itoa(page))
		require.EqualValues(t, n, res.Total)
		for _, e := range res.Items {
			byPage = append(byPage, e.ID)
		}
		if !res.HasMore {
			require.Nil(t, res.NextCursor)
			require.Equal(t, 3, page)
			break
		}
		require.NotNil(t, res.NextCursor)
	}
	query := sort + "&limit=3"
	for page := 1; ; page++ {
		res := list(query)
		require.Equal(t, page, res.Page)
		require.EqualValues(t, n, res.Total)
		require.EqualValues(t, n, res.Summary.Count)
		for _, e := range res.Items {
			byCursor = append(byCursor, e.ID)
		}
		if !res.HasMore {
			require.Nil(t, res.NextCursor)
			require.Len(t, res.Items, n-6)
			break
		}
		require.Len(t, res.Items, 3)
		require.NotNil(t, res.NextCursor)
		query = sort + "&limit=3&cursor=" + url.QueryEscape(*res.NextCursor)
	}
	require.Len(t, byCursor, n)
	require.Equal(t, byPage, byCursor)

	cursor := url.QueryEscape(*list(sort + "&limit=3").NextCursor)
	for name, q := range map[string]string{
		"WithPage":  sort + "&limit=3&page=2&cursor=" + cursor,
		"OtherSort": "sort=name&limit=3&cursor=" + cursor,
		"OtherQ":    sort + "&limit=3&q=member&cursor=" + cursor,
		"Garbage":   sort + "&cursor=%2B%2B%2B",
	} {
		rec := serveEntry(t, f.router, http.MethodGet, members+"?"+q, "", nil)
		require.Equal(t, http.StatusBadRequest, rec.Code, name)
		env := requireErrorEnvelope(t, rec)
		require.Equal(t, "invalid_cursor", env.Error.Code, name)
		require.Equal(t, "cursor", env.Error.Details[0]["field"], name)
	}
	for _, q := range []string{"sort=%2Bunknown", "sort=%2B-name", "sort=%2B%2Bname", "sort=+unknown"} {
		rec := serveEntry(t, f.router, http.MethodGet, members+"?"+q, "", nil)
		require.Equal(t, http.StatusBadRequest, rec.Code, q)
		require.Equal(t, "invalid_sort", requireErrorEnvelope(t, rec).Error.Code, q)
	}
	res := list("sort=%2Bname&limit=1")
	require.Len(t, res.Items, 1, "+name is name ascending")
}
