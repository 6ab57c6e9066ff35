package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Default limits (docs/jobs.md §5.1).
const (
	DefaultMaxRecords     = 1_000_000
	DefaultMaxCellChars   = 10_000
	DefaultMaxRecordBytes = 1 << 20 // one record (quoted newlines included)
	DefaultMaxColumns     = 1_000
)

// Options are the limits of a Reader; zero values take the defaults.
type Options struct {
	// MaxRecords is the maximum number of data records (too_many_rows).
	MaxRecords int
	// MaxCellChars is the maximum length of a cell in characters; longer
	// cells give the row error too_long.
	MaxCellChars int
	// MaxRecordBytes bounds the size of one record, header included; a
	// larger record rejects the file (record_too_large) before it is held
	// in memory.
	MaxRecordBytes int
	// MaxColumns bounds the number of cells of the header and of a record
	// (too_many_columns).
	MaxColumns int
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxRecords <= 0 {
		out.MaxRecords = DefaultMaxRecords
	}
	if out.MaxCellChars <= 0 {
		out.MaxCellChars = DefaultMaxCellChars
	}
	if out.MaxRecordBytes <= 0 {
		out.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if out.MaxColumns <= 0 {
		out.MaxColumns = DefaultMaxColumns
	}
	return out
}

// Counts are the record counters of a read (docs/jobs.md §3): Total counts the
// data records that are not entirely empty (template fillers included),
// Blank the template fillers (every required cell empty), which are
// skipped. Entirely empty records are neither counted nor returned.
type Counts struct {
	Total int
	Blank int
}

// Reader streams the records of one CSV file against a Table. It is not
// safe for concurrent use.
type Reader struct {
	table   *Table
	opts    Options
	g       *guard
	cr      *csv.Reader
	comma   rune
	header  []string // normalised names as found in the file
	colIdx  map[string]int
	ignored []string
	reqIdx  []int
	row     int
	counts  Counts
	rec     Record
	err     error
}

// NewReader reads and checks the header of a CSV file. Header problems are
// returned as *FileError (empty_file, csv_encoding_invalid,
// duplicate_column, missing_columns, record_too_large, too_many_columns,
// csv_malformed).
func NewReader(src io.Reader, table *Table, opts *Options) (*Reader, error) {
	o := opts.withDefaults()
	br := bufio.NewReaderSize(src, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	g := &guard{r: br, maxBytes: o.MaxRecordBytes, maxFields: o.MaxColumns, line: 1, recLine: 1}
	head, comma, err := readHeaderLine(g, o)
	if err != nil {
		return nil, err
	}
	g.comma = byte(comma)
	cr := csv.NewReader(io.MultiReader(bytes.NewReader(head), g))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	r := &Reader{table: table, opts: o, g: g, cr: cr, comma: comma}
	r.rec.r = r
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// readHeaderLine reads up to the end of the first non-blank line (outside
// quotes) and detects its delimiter: the one of `,` and `;` occurring more
// often outside quotes (tie → `,`). It returns every byte read so far so
// that the CSV parser sees the file from its start (line numbers stay
// physical).
func readHeaderLine(g *guard, o Options) ([]byte, rune, error) {
	var buf []byte
	chunk := make([]byte, 4096)
	inQuote, nonBlank := false, false
	commas, semis := 0, 0
	lineStart := 1
	line := 1
	pos := 0
	for {
		for ; pos < len(buf); pos++ {
			c := buf[pos]
			switch {
			case c == '"':
				inQuote = !inQuote
				nonBlank = true
			case inQuote:
				if c == '\n' {
					line++
				}
			case c == ',':
				commas++
				nonBlank = true
			case c == ';':
				semis++
				nonBlank = true
			case c == '\n':
				line++
				if nonBlank {
					return buf, pickComma(commas, semis), checkHeaderCount(commas, semis, o, lineStart)
				}
				lineStart = line
			case c == ' ' || c == '\t' || c == '\r':
			default:
				nonBlank = true
			}
		}
		n, err := g.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if !nonBlank {
					return nil, 0, &FileError{Code: CodeEmptyFile, Message: "the file has no header"}
				}
				return buf, pickComma(commas, semis), checkHeaderCount(commas, semis, o, lineStart)
			}
			return nil, 0, g.fileError(err)
		}
	}
}

func pickComma(commas, semis int) rune {
	if semis > commas {
		return ';'
	}
	return ','
}

func checkHeaderCount(commas, semis int, o Options, line int) error {
	if max(commas, semis)+1 > o.MaxColumns {
		return &FileError{Code: CodeTooManyColumns, Line: line,
			Message: fmt.Sprintf("the header has more than %d columns", o.MaxColumns)}
	}
	return nil
}

// NormalizeHeader normalises a header name (docs/jobs.md §5.1): trimmed,
// lower-case, spaces and `-` replaced by `_`.
func NormalizeHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, s)
}

func (r *Reader) readHeader() error {
	for {
		fields, err := r.read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return &FileError{Code: CodeEmptyFile, Message: "the file has no header"}
			}
			return err
		}
		line, _ := r.cr.FieldPos(0)
		if allEmpty(fields) {
			continue
		}
		for i, f := range fields {
			if !utf8.ValidString(f) {
				l, _ := r.cr.FieldPos(i)
				return encodingError(l)
			}
		}
		r.header = make([]string, len(fields))
		r.colIdx = make(map[string]int, len(fields))
		var dups []string
		for i, f := range fields {
			name := NormalizeHeader(f)
			r.header[i] = name
			canon, ok := r.table.canonical(name)
			if !ok {
				if name != "" && !slices.Contains(r.ignored, name) {
					r.ignored = append(r.ignored, name)
				}
				continue
			}
			if _, dup := r.colIdx[canon]; dup {
				if !slices.Contains(dups, canon) {
					dups = append(dups, canon)
				}
				continue
			}
			r.colIdx[canon] = i
		}
		if len(dups) > 0 {
			return &FileError{Code: CodeDuplicateColumn, Line: line, Columns: dups,
				Message: "duplicate column(s) after normalisation and aliases: " + strings.Join(dups, ", ")}
		}
		var missing []string
		for _, c := range r.table.Columns {
			if !c.Required {
				continue
			}
			i, ok := r.colIdx[c.Name]
			if !ok {
				missing = append(missing, c.Name)
				continue
			}
			r.reqIdx = append(r.reqIdx, i)
		}
		if len(missing) > 0 {
			return &FileError{Code: CodeMissingColumns, Line: line, Columns: missing,
				Message: "missing required column(s): " + strings.Join(missing, ", ")}
		}
		return nil
	}
}

// read returns the next raw record, mapping parser and guard failures to
// *FileError.
func (r *Reader) read() ([]string, error) {
	fields, err := r.cr.Read()
	if r.g.err != nil {
		return nil, r.g.fileError(r.g.err)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if pe, ok := errors.AsType[*csv.ParseError](err); ok {
			return nil, &FileError{Code: CodeMalformed, Line: pe.Line, Message: pe.Err.Error()}
		}
		return nil, fmt.Errorf("error reading CSV: %w", err)
	}
	return fields, nil
}

func encodingError(line int) error {
	return &FileError{Code: CodeEncodingInvalid, Line: line,
		Message: fmt.Sprintf("line %d is not valid UTF-8", line)}
}

// Delimiter returns the detected delimiter (',' or ';').
func (r *Reader) Delimiter() rune { return r.comma }

// DecimalComma reports whether a single ',' is accepted as the decimal
// separator (the file uses ';').
func (r *Reader) DecimalComma() bool { return r.comma == ';' }

// Columns returns the canonical columns present in the file.
func (r *Reader) Columns() []string {
	out := make([]string, 0, len(r.colIdx))
	for _, c := range r.table.Columns {
		if _, ok := r.colIdx[c.Name]; ok {
			out = append(out, c.Name)
		}
	}
	return out
}

// Has reports whether a canonical column is present in the file.
func (r *Reader) Has(col string) bool {
	_, ok := r.colIdx[col]
	return ok
}

// IgnoredColumns returns the unknown columns of the header (normalised),
// each once, in file order (result ignored_columns).
func (r *Reader) IgnoredColumns() []string { return slices.Clone(r.ignored) }

// Offset returns the number of bytes of the file read so far (after the
// byte-order mark), to estimate the progress of a pass.
func (r *Reader) Offset() int64 { return r.cr.InputOffset() }

// Counts returns the record counters so far.
func (r *Reader) Counts() Counts { return r.counts }

// Table returns the table the reader checks against.
func (r *Reader) Table() *Table { return r.table }

// Next returns the next data record, skipping entirely empty records and
// template fillers (counted in Counts().Blank). It returns io.EOF at the
// end and a *FileError when the file must be rejected; after an error every
// call returns the same error. The record is reused by the next call.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
		return nil, err
	}
	return rec, nil
}

func (r *Reader) next() (*Record, error) {
	for {
		fields, err := r.read()
		if err != nil {
			return nil, err
		}
		r.row++
		if r.row > r.opts.MaxRecords {
			return nil, &FileError{Code: CodeTooManyRows,
				Message: fmt.Sprintf("more than %d records", r.opts.MaxRecords)}
		}
		line, _ := r.cr.FieldPos(0)
		for i, f := range fields {
			if !utf8.ValidString(f) {
				l, _ := r.cr.FieldPos(i)
				return nil, encodingError(l)
			}
		}
		if allEmpty(fields) {
			continue
		}
		r.counts.Total++
		if len(r.reqIdx) > 0 && r.requiredEmpty(fields) {
			r.counts.Blank++
			continue
		}
		r.rec.Row, r.rec.Line, r.rec.fields = r.row, line, fields
		r.checkCells(&r.rec)
		return &r.rec, nil
	}
}

// checkCells records the too_long cells of rec (cells of the table's
// columns longer than MaxCellChars characters).
func (r *Reader) checkCells(rec *Record) {
	rec.tooLong = rec.tooLong[:0]
	for _, c := range r.table.Columns {
		i, ok := r.colIdx[c.Name]
		if !ok || i >= len(rec.fields) {
			continue
		}
		f := rec.fields[i]
		if len(f) > r.opts.MaxCellChars && utf8.RuneCountInString(f) > r.opts.MaxCellChars {
			rec.tooLong = append(rec.tooLong, rec.newError(c.Name, CodeTooLong, SeverityError,
				fmt.Sprintf("cell longer than %d characters", r.opts.MaxCellChars), f))
		}
	}
}

func (r *Reader) requiredEmpty(fields []string) bool {
	for _, i := range r.reqIdx {
		if i < len(fields) && strings.TrimSpace(fields[i]) != "" {
			return false
		}
	}
	return true
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// Record is one data record. It is only valid until the next call of
// Reader.Next.
type Record struct {
	// Row is the 1-based index of the record after the header; Line the
	// physical line where it starts (the header is line 1).
	Row, Line int
	r         *Reader
	fields    []string
	tooLong   []RowError
}

// Raw returns the cell of a canonical column as written ("" when the
// column or the cell is absent).
func (rec *Record) Raw(col string) string {
	i, ok := rec.r.colIdx[col]
	if !ok || i >= len(rec.fields) {
		return ""
	}
	return rec.fields[i]
}

// Get returns the trimmed cell of a canonical column.
func (rec *Record) Get(col string) string { return strings.TrimSpace(rec.Raw(col)) }

// Has reports whether the column is present in the file.
func (rec *Record) Has(col string) bool { return rec.r.Has(col) }

// DecimalComma reports whether the file accepts `12,5` numbers.
func (rec *Record) DecimalComma() bool { return rec.r.DecimalComma() }

// Errors returns the row errors found by the reader itself (too_long
// cells).
func (rec *Record) Errors() []RowError { return slices.Clone(rec.tooLong) }

func (rec *Record) newError(col, code string, sev Severity, msg, value string) RowError {
	e := RowError{Row: rec.Row, Line: rec.Line, Code: code, Message: msg, Value: truncateValue(value), Severity: sev}
	if col != "" {
		c := col
		e.Column = &c
	}
	return e
}

// guard bounds the bytes and cells of the record being read: it follows
// RFC 4180 quoting (a `"` toggles the quoted state, so `""` escapes cancel
// out) and fails as soon as the current record exceeds maxBytes or
// maxFields, before the CSV parser buffers it.
type guard struct {
	r         io.Reader
	maxBytes  int
	maxFields int
	comma     byte // 0 until detected
	inQuote   bool
	recBytes  int
	fields    int
	line      int // current physical line
	recLine   int // line where the current record starts
	err       error
}

var (
	errRecordTooLarge = errors.New("record too large")
	errTooManyFields  = errors.New("too many columns")
)

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i := range n {
		c := p[i]
		g.recBytes++
		switch {
		case c == '"':
			g.inQuote = !g.inQuote
		case c == '\n':
			g.line++
			if !g.inQuote {
				g.recBytes, g.fields, g.recLine = 0, 0, g.line
			}
		case c == g.comma && g.comma != 0 && !g.inQuote:
			g.fields++
		}
		if g.recBytes > g.maxBytes {
			g.err = errRecordTooLarge
		} else if g.fields >= g.maxFields {
			g.err = errTooManyFields
		}
		if g.err != nil {
			return i, nil //nolint:nilerr // the bytes before the limit are delivered; the error comes with the next call
		}
	}
	return n, err
}

func (g *guard) fileError(err error) error {
	switch {
	case errors.Is(err, errRecordTooLarge):
		return &FileError{Code: CodeRecordTooLarge, Line: g.recLine,
			Message: fmt.Sprintf("the record starting at line %d is larger than %d bytes (unbalanced quote?)", g.recLine, g.maxBytes)}
	case errors.Is(err, errTooManyFields):
		return &FileError{Code: CodeTooManyColumns, Line: g.recLine,
			Message: fmt.Sprintf("the record starting at line %d has more than %d cells", g.recLine, g.maxFields)}
	}
	return fmt.Errorf("error reading CSV: %w", err)
}
