package entry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
)

// An entries-list cursor (docs/api.md §5) is the position of the last entry
// of a page in the list's order — the sort_position EntriesList returns,
// [n1, t1, n2, t2, n3, t3, n4, t4, id] — with the number of the page it
// leads to and what it was made for: the sort, and a fingerprint of the
// filters. The next page is then read by keyset (the entries after that
// position), at the cost of a first page whatever its depth, and it stays
// exact when entries are added or removed between the requests.
// It is opaque to clients: base64url of a small JSON object.
type cursor struct {
	Page   int             `json:"p"`
	Sort   string          `json:"s"`
	Filter string          `json:"f"`
	Pos    json.RawMessage `json:"k"`
}

// sortPositionLen is the length of a sort_position array.
const sortPositionLen = 2*MaxSortKeys + 1

// maxCursorLen bounds the cursor parameter (a position holds up to four
// texts of a data field, each at most a few hundred bytes).
const maxCursorLen = 8192

func invalidCursor(msg string) error {
	return &apperr.Error{Code: apperr.CodeInvalid, Reason: "invalid_cursor", Message: "cursor is not a cursor of this list",
		Fields: []apperr.FieldError{{Field: "cursor", Code: "invalid_cursor", Message: msg}}}
}

// sortSignature is the canonical text of a sort ("-distance_km,name").
func sortSignature(keys []SortKey) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if k.Desc {
			b.WriteByte('-')
		}
		b.WriteString(k.Field)
	}
	return b.String()
}

// filterSignature fingerprints the filters of a list (FNV-1a, hex): a
// cursor is refused under other filters.
func filterSignature(p ListParams, q string) string {
	h := fnv.New64a()
	for _, s := range []string{q, p.Source, p.CalcStatus, strconv.FormatBool(p.AboveThreshold)} {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

func encodeCursor(c cursor) string {
	b, err := json.Marshal(c)
	if err != nil { // a struct of strings, an int and valid JSON
		panic(fmt.Sprintf("entry: encoding a cursor: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses raw for a list sorted by sort with filters filter
// (400 invalid_cursor otherwise). The position is checked element by
// element, so that the database casts cannot fail: numbers where the keys
// have numbers, texts where they have texts (null for a missing value),
// and an entry id.
func decodeCursor(raw, sort, filter string) (cursor, error) {
	var c cursor
	if len(raw) > maxCursorLen {
		return c, invalidCursor("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return c, invalidCursor("not a cursor")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil || c.Page < 2 {
		return c, invalidCursor("not a cursor")
	}
	if c.Sort != sort || c.Filter != filter {
		return c, invalidCursor("made for another sort or other filters: start again from the first page")
	}
	var pos []json.RawMessage
	if err := json.Unmarshal(c.Pos, &pos); err != nil || len(pos) != sortPositionLen {
		return c, invalidCursor("not a cursor")
	}
	for i, v := range pos {
		if string(v) == "null" && i < sortPositionLen-1 {
			continue
		}
		var ok bool
		switch {
		case i == sortPositionLen-1:
			_, err := strconv.ParseInt(string(v), 10, 64)
			ok = err == nil
		case i%2 == 0:
			var n json.Number
			if json.Unmarshal(v, &n) == nil && v[0] != '"' {
				_, err := strconv.ParseFloat(n.String(), 64)
				ok = err == nil
			}
		default:
			var s string
			ok = json.Unmarshal(v, &s) == nil && !strings.ContainsRune(s, 0)
		}
		if !ok {
			return c, invalidCursor("not a cursor")
		}
	}
	return c, nil
}
