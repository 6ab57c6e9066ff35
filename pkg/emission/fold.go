package emission

import (
	"unicode"
	"unicode/utf8"
)

// Fold returns the matching form of a text value (docs/domain.md §1, rule D3):
// trimmed, inner whitespace runs collapsed to one space, case-folded
// (Unicode simple folding to lower case). Two values match when their folded
// forms are equal. Fold does not allocate when s is already folded.
func Fold(s string) string {
	if isFolded(s) {
		return s
	}
	var buf [64]byte
	return string(appendFold(buf[:0], s))
}

// isFolded reports whether s is plain folded ASCII.
func isFolded(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prevSpace := false
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return false
		case 'A' <= c && c <= 'Z':
			return false
		case c == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
		case c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			return false
		default:
			prevSpace = false
		}
	}
	return true
}

// appendFold appends the folded form of s to dst.
func appendFold(dst []byte, s string) []byte {
	pendingSpace := false
	started := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' {
				pendingSpace = started
				continue
			}
			if pendingSpace {
				dst = append(dst, ' ')
				pendingSpace = false
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			started = true
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsSpace(r) {
			pendingSpace = started
			continue
		}
		if pendingSpace {
			dst = append(dst, ' ')
			pendingSpace = false
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(unicode.ToUpper(r)))
		started = true
	}
	return dst
}

// appendSlug appends the folded form of s with spaces and '-' replaced by
// '_' (used to turn classification values into tree keys).
func appendSlug(dst []byte, s string) []byte {
	start := len(dst)
	dst = appendFold(dst, s)
	for i := start; i < len(dst); i++ {
		if dst[i] == ' ' || dst[i] == '-' {
			dst[i] = '_'
		}
	}
	return dst
}

// slug returns the folded form of s with spaces and '-' replaced by '_'.
func slug(s string) string {
	var buf [64]byte
	return string(appendSlug(buf[:0], s))
}

// keySep separates the folded values of a composite index key.
const keySep = '\x1f'

// appendKey appends the folded values joined by keySep.
func appendKey(dst []byte, vals ...string) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, keySep)
		}
		dst = appendFold(dst, v)
	}
	return dst
}
