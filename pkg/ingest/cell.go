package ingest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Cell parse errors; callers map them to row error codes.
var (
	ErrInvalidNumber  = errors.New("not a number")
	ErrInvalidInteger = errors.New("not an integer")
	ErrInvalidDate    = errors.New("not a date")
	ErrInvalidBool    = errors.New("not a boolean")
	ErrInvalidEnum    = errors.New("not an allowed value")
)

// ParseNumber parses a decimal number (docs/jobs.md §5.1): `.` as decimal
// separator, optional sign and exponent, no thousands separators; with
// decimalComma (the file uses `;`) a single `,` is accepted instead of `.`
// (`12,5`). NaN, Inf, hexadecimal and out-of-range values are rejected.
func ParseNumber(s string, decimalComma bool) (float64, error) {
	s = strings.TrimSpace(s)
	if decimalComma && strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	if !isDecimal(s) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidNumber, s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidNumber, s)
	}
	return f, nil
}

// isDecimal accepts [+-]digits[.digits][(e|E)[+-]digits] with at least one
// mantissa digit.
func isDecimal(s string) bool {
	i, n := 0, len(s)
	if i < n && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < n && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == n
}

// maxExactInt is the largest integer a float64 holds exactly.
const maxExactInt = 1 << 53

// ParseInt parses an integral value (`3`, `3.0`, `3e2`; docs/jobs.md §5.1).
func ParseInt(s string, decimalComma bool) (int64, error) {
	f, err := ParseNumber(s, decimalComma)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > maxExactInt {
		return 0, fmt.Errorf("%w: %q", ErrInvalidInteger, strings.TrimSpace(s))
	}
	return int64(f), nil
}

var dateLayouts = []string{"2006-01-02", "2006/01/02", "02.01.2006", "20060102"}

// ParseDate parses YYYY-MM-DD, YYYY/MM/DD, DD.MM.YYYY or YYYYMMDD (docs/jobs.md
// §5.1) into a UTC date.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if len(s) != len(l) {
			continue
		}
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q", ErrInvalidDate, s)
}

// ParseBool parses true/false, yes/no, 1/0, oui/non, case-insensitively.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "oui":
		return true, nil
	case "false", "no", "0", "non":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q", ErrInvalidBool, s)
}

// ParseEnum matches s case-insensitively (after trimming) against the
// allowed values and returns the allowed spelling.
func ParseEnum(s string, allowed ...string) (string, error) {
	s = strings.TrimSpace(s)
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: %q (allowed: %s)", ErrInvalidEnum, s, strings.Join(allowed, ", "))
}

// NormalizeUnitCF normalises a unit_institutional_id cell (docs/jobs.md §4.1):
// trimmed; a leading letter followed only by digits is stripped (`F0828`
// → `0828`).
func NormalizeUnitCF(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return s
	}
	c := s[0]
	if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
		return s
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return s
		}
	}
	return s[1:]
}

// cells reads typed values from a record and collects row errors.
type cells struct {
	rec  *Record
	errs []RowError
}

func newCells(rec *Record) *cells {
	return &cells{rec: rec, errs: rec.Errors()}
}

func (c *cells) add(col, code, msg, value string) {
	c.errs = append(c.errs, c.rec.newError(col, code, SeverityError, msg, value))
}

func (c *cells) warn(col, code, msg, value string) {
	c.errs = append(c.errs, c.rec.newError(col, code, SeverityWarning, msg, value))
}

func (c *cells) failed() bool { return HasErrors(c.errs) }

// str returns the trimmed cell; required adds `required` when empty.
func (c *cells) str(col string, required bool) string {
	v := c.rec.Get(col)
	if v == "" && required {
		c.add(col, CodeRequired, col+" is required", "")
	}
	return v
}

// maxLen adds too_long when v is longer than n characters.
func (c *cells) maxLen(col, v string, n int) {
	if len([]rune(v)) > n {
		c.add(col, CodeTooLong, fmt.Sprintf("%s is longer than %d characters", col, n), v)
	}
}

// num parses a number; ok is false when the cell is empty or invalid.
func (c *cells) num(col string, required bool) (float64, bool) {
	v := c.str(col, required)
	if v == "" {
		return 0, false
	}
	f, err := ParseNumber(v, c.rec.DecimalComma())
	if err != nil {
		c.add(col, CodeInvalidNumber, col+" is not a number", v)
		return 0, false
	}
	return f, true
}

// integer parses an integral value.
func (c *cells) integer(col string, required bool) (int64, bool) {
	v := c.str(col, required)
	if v == "" {
		return 0, false
	}
	n, err := ParseInt(v, c.rec.DecimalComma())
	if err != nil {
		c.add(col, CodeInvalidInteger, col+" is not an integer", v)
		return 0, false
	}
	return n, true
}

// date parses a date into YYYY-MM-DD.
func (c *cells) date(col string, required bool) (time.Time, bool) {
	v := c.str(col, required)
	if v == "" {
		return time.Time{}, false
	}
	t, err := ParseDate(v)
	if err != nil {
		c.add(col, CodeInvalidDate, col+" is not a date (YYYY-MM-DD, YYYY/MM/DD, DD.MM.YYYY or YYYYMMDD)", v)
		return time.Time{}, false
	}
	return t, true
}

// enum matches an enumeration case-insensitively.
func (c *cells) enum(col string, required bool, allowed ...string) string {
	v := c.str(col, required)
	if v == "" {
		return ""
	}
	e, err := ParseEnum(v, allowed...)
	if err != nil {
		c.add(col, CodeInvalidEnum, fmt.Sprintf("%s must be one of %s", col, strings.Join(allowed, ", ")), v)
		return ""
	}
	return e
}

// outOfRange adds out_of_range for a value breaking rule.
func (c *cells) outOfRange(col string, v float64, rule string) {
	c.add(col, CodeOutOfRange, col+" must be "+rule, strconv.FormatFloat(v, 'g', -1, 64))
}

// nonNeg parses an optional or required number ≥ 0.
func (c *cells) nonNeg(col string, required bool) (float64, bool) {
	f, ok := c.num(col, required)
	if ok && f < 0 {
		c.outOfRange(col, f, ">= 0")
		return 0, false
	}
	return f, ok
}

func (c *cells) between(col string, required bool, lo, hi float64) (float64, bool) {
	f, ok := c.num(col, required)
	if ok && (f < lo || f > hi) {
		c.outOfRange(col, f, fmt.Sprintf("between %g and %g", lo, hi))
		return 0, false
	}
	return f, ok
}

func (c *cells) positive(col string, required bool) (float64, bool) {
	f, ok := c.num(col, required)
	if ok && f <= 0 {
		c.outOfRange(col, f, "> 0")
		return 0, false
	}
	return f, ok
}
