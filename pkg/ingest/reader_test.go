package ingest_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// testTable: a, b required; c optional; alias "alpha" → a.
func testTable() *ingest.Table {
	return ingest.NewTable("t", []ingest.Column{{Name: "a", Required: true}, {Name: "b", Required: true}, {Name: "c"}},
		map[string]string{"Alpha": "a", "be-ta": "b"})
}

type readResult struct {
	rows    [][3]string // a, b, c
	rowIdx  []int
	lines   []int
	counts  ingest.Counts
	ignored []string
	comma   rune
	errs    []ingest.RowError
}

func readAll(t *testing.T, tbl *ingest.Table, input string, opts *ingest.Options) (readResult, error) {
	t.Helper()
	r, err := ingest.NewReader(strings.NewReader(input), tbl, opts)
	if err != nil {
		return readResult{}, err
	}
	res := readResult{ignored: r.IgnoredColumns(), comma: r.Delimiter()}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		res.rows = append(res.rows, [3]string{rec.Get("a"), rec.Get("b"), rec.Get("c")})
		res.rowIdx = append(res.rowIdx, rec.Row)
		res.lines = append(res.lines, rec.Line)
		res.errs = append(res.errs, rec.Errors()...)
	}
	res.counts = r.Counts()
	return res, nil
}

func requireFileError(t *testing.T, err error, code string) *ingest.FileError {
	t.Helper()
	var fe *ingest.FileError
	require.ErrorAs(t, err, &fe, "want a *FileError %s, got %v", code, err)
	require.Equal(t, code, fe.Code, fe.Error())
	return fe
}

func TestReader(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		input   string
		rows    [][3]string
		rowIdx  []int
		lines   []int
		counts  ingest.Counts
		ignored []string
		comma   rune
	}{
		{
			name:  "AliasesAndHeaderNormalisation",
			input: " ALPHA ,Be Ta,C,Extra Col\n1,2,3,x\n",
			rows:  [][3]string{{"1", "2", "3"}}, rowIdx: []int{1}, lines: []int{2},
			counts: ingest.Counts{Total: 1}, ignored: []string{"extra_col"}, comma: ',',
		},
		{
			name:  "BOMAndSemicolon",
			input: "\uFEFFa;b;c\n1,5;2;x\n",
			rows:  [][3]string{{"1,5", "2", "x"}}, rowIdx: []int{1}, lines: []int{2},
			counts: ingest.Counts{Total: 1}, comma: ';',
		},
		{
			name:  "DelimiterTieIsComma",
			input: "a,b,c;d;e\n1,2,3;4;5\n",
			rows:  [][3]string{{"1", "2", ""}}, rowIdx: []int{1}, lines: []int{2},
			counts: ingest.Counts{Total: 1}, ignored: []string{"c;d;e"}, comma: ',',
		},
		{
			name:  "DelimiterIgnoresQuotedSeparators",
			input: "\"a,x,y\";b;c\n1;2;3\n",
			rows:  [][3]string{{"", "2", ""}}, rowIdx: []int{1}, lines: []int{2},
			counts: ingest.Counts{Total: 1}, ignored: []string{"c"}, comma: ';',
		},
		{
			name:   "QuotedNewlinesAndCRLF",
			input:  "a,b,c\r\n\"multi\r\nline\",\"q\"\"uote\",3\r\n4,5,6",
			rows:   [][3]string{{"multi\nline", "q\"uote", "3"}, {"4", "5", "6"}},
			rowIdx: []int{1, 2}, lines: []int{2, 4},
			counts: ingest.Counts{Total: 2}, comma: ',',
		},
		{
			name:   "BlankAndTemplateRows",
			input:  "\n\na,b,c\n,,\n , ,note\n1,2,\n\n,,\n7,,\n",
			rows:   [][3]string{{"1", "2", ""}, {"7", "", ""}},
			rowIdx: []int{3, 5}, lines: []int{6, 9},
			counts: ingest.Counts{Total: 3, Blank: 1}, comma: ',',
		},
		{
			name:   "ShortAndLongRecords",
			input:  "a,b,c\n1\n1,2,3,4,5\n",
			rows:   [][3]string{{"1", "", ""}, {"1", "2", "3"}},
			rowIdx: []int{1, 2}, lines: []int{2, 3},
			counts: ingest.Counts{Total: 2}, comma: ',',
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tbl := testTable()
			if tt.name == "DelimiterIgnoresQuotedSeparators" {
				tbl = ingest.NewTable("t", []ingest.Column{{Name: "a,x,y"}, {Name: "b"}}, nil)
			}
			res, err := readAll(t, tbl, tt.input, nil)
			require.NoError(t, err)
			require.Equal(t, tt.rows, res.rows)
			require.Equal(t, tt.rowIdx, res.rowIdx)
			require.Equal(t, tt.lines, res.lines)
			require.Equal(t, tt.counts, res.counts)
			require.Equal(t, tt.ignored, res.ignored)
			require.Equal(t, tt.comma, res.comma)
		})
	}
}

func TestReaderFileErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		input   string
		opts    *ingest.Options
		code    string
		line    int
		columns []string
	}{
		{name: "Empty", input: "", code: ingest.CodeEmptyFile},
		{name: "OnlyBlankLines", input: "\n \r\n\n", code: ingest.CodeEmptyFile},
		{name: "OnlyBOM", input: "\uFEFF", code: ingest.CodeEmptyFile},
		{name: "DuplicateColumnViaAlias", input: "a,alpha,b\n", code: ingest.CodeDuplicateColumn, line: 1, columns: []string{"a"}},
		{name: "DuplicateColumnViaNormalisation", input: "a,b,C, c \n", code: ingest.CodeDuplicateColumn, line: 1, columns: []string{"c"}},
		{name: "MissingColumns", input: "c,d\n1,2\n", code: ingest.CodeMissingColumns, line: 1, columns: []string{"a", "b"}},
		{name: "InvalidUTF8Header", input: "a,b\xff\n", code: ingest.CodeEncodingInvalid, line: 1},
		{name: "InvalidUTF8Record", input: "a,b\n1,2\n3,\"x\ny\xfe\"\n", code: ingest.CodeEncodingInvalid, line: 3},
		{name: "TooManyRows", input: "a,b\n1,2\n3,4\n5,6\n", opts: &ingest.Options{MaxRecords: 2}, code: ingest.CodeTooManyRows},
		{name: "BareQuote", input: "a,b\n1,x\"y\n", code: ingest.CodeMalformed, line: 2},
		{name: "RecordTooLarge", input: "a,b\n1,\"" + strings.Repeat("x\n", 600) + "\n", opts: &ingest.Options{MaxRecordBytes: 1000}, code: ingest.CodeRecordTooLarge, line: 2},
		{name: "HeaderTooLarge", input: strings.Repeat("x", 5000) + ",a,b\n", opts: &ingest.Options{MaxRecordBytes: 1000}, code: ingest.CodeRecordTooLarge, line: 1},
		{name: "HeaderTooManyColumns", input: "a,b" + strings.Repeat(",", 50) + "\n", opts: &ingest.Options{MaxColumns: 10}, code: ingest.CodeTooManyColumns, line: 1},
		{name: "RecordTooManyColumns", input: "a,b\n" + strings.Repeat("1,2\n", 2000) + strings.Repeat(",", 50) + "x\n", opts: &ingest.Options{MaxColumns: 10}, code: ingest.CodeTooManyColumns, line: 2002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := readAll(t, testTable(), tt.input, tt.opts)
			fe := requireFileError(t, err, tt.code)
			require.Equal(t, tt.line, fe.Line, fe.Error())
			if tt.columns != nil {
				require.Equal(t, tt.columns, fe.Columns)
			}
		})
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	t.Parallel()
	r, err := ingest.NewReader(strings.NewReader("a,b\n1,x\"y\n3,4\n"), testTable(), nil)
	require.NoError(t, err)
	_, err1 := r.Next()
	_, err2 := r.Next()
	requireFileError(t, err1, ingest.CodeMalformed)
	require.Equal(t, err1, err2)
}

func TestReaderHugeInputsStayBounded(t *testing.T) {
	t.Parallel()
	// A 10 MB line and a 1 000 000-column header are refused with the
	// default limits, without reading them whole.
	huge := strings.Repeat("x", 10<<20)
	_, err := ingest.NewReader(strings.NewReader("a,b\n1,"+huge+"\n"), testTable(), nil)
	require.NoError(t, err, "the header is fine")
	_, err = readAll(t, testTable(), "a,b\n1,"+huge+"\n", nil)
	requireFileError(t, err, ingest.CodeRecordTooLarge)

	_, err = ingest.NewReader(strings.NewReader("a,b"+strings.Repeat(",", 1_000_000)+"\n"), testTable(), nil)
	requireFileError(t, err, ingest.CodeTooManyColumns)
}

func TestReaderCellTooLong(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 10_001)
	res, err := readAll(t, testTable(), "a,b,c\n1,"+long+",3\n4,5,6\n", nil)
	require.NoError(t, err)
	require.Len(t, res.rows, 2)
	require.Len(t, res.errs, 1)
	e := res.errs[0]
	require.Equal(t, ingest.CodeTooLong, e.Code)
	require.Equal(t, "b", e.ColumnName())
	require.Equal(t, 1, e.Row)
	require.Equal(t, 2, e.Line)
	require.Len(t, []rune(e.Value), 100)
	require.Equal(t, ingest.SeverityError, e.Severity)
}

func TestNormalizeHeader(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		" Unit CF ": "unit_cf", "kg-CO2eq": "kg_co2eq", "ORIGIN_IATA": "origin_iata", "": "",
	} {
		require.Equal(t, want, ingest.NormalizeHeader(in), in)
	}
}

func TestReaderOffset(t *testing.T) {
	t.Parallel()
	input := "a,b\n1,2\n3,4\n"
	r, err := ingest.NewReader(strings.NewReader(input), testTable(), nil)
	require.NoError(t, err)
	require.Equal(t, int64(len("a,b\n")), r.Offset())
	_, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, int64(len("a,b\n1,2\n")), r.Offset())
	_, err = r.Next()
	require.NoError(t, err)
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, int64(len(input)), r.Offset())
}
