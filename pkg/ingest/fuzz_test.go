package ingest_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// FuzzReader feeds arbitrary bytes to the reader and the data, factor and
// reference parsers: nothing may panic, every error is a *FileError or
// io.EOF, and records stay within the limits. `go test` runs the committed
// corpus of testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"\uFEFFname;sius_code;user_institutional_id;fte\n\"A;B\";54;1;0,8\n",
		"origin_iata,destination_iata,user_institutional_id,cabin_class,kg_co2eq\nGVA,ZRH,1,economy,NaN\n",
		"a,\"b\nc\",d\r\n\"\"\"\",,\n",
		"\xff\xfe,\n",
		"\"unterminated,\n1,2\n",
		"category,cabin_class,ef_kg_co2eq_per_km,min_distance,max_distance\nx,economy,1,0,10\ny,economy,1,5,20\n",
	} {
		f.Add([]byte(s))
	}
	opts := &ingest.Options{MaxRecordBytes: 4096, MaxColumns: 64, MaxRecords: 1000, MaxCellChars: 256}
	member, _ := ingest.DataTable("member", true)
	plane, _ := ingest.FactorTable("plane")
	rooms, _ := ingest.ReferenceTable(ingest.DatasetBuildingRooms)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tbl := range []*ingest.Table{member, plane, rooms} {
			r, err := ingest.NewReader(bytes.NewReader(data), tbl, opts)
			if err != nil {
				if _, ok := errors.AsType[*ingest.FileError](err); !ok {
					t.Fatalf("NewReader: unexpected error type %T: %v", err, err)
				}
				continue
			}
			dp, _ := ingest.NewDataParser("member", ingest.DataOptions{PerYear: true})
			fp, _ := ingest.NewFactorParser("plane", "")
			rp := ingest.NewRoomParser()
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if _, ok := errors.AsType[*ingest.FileError](err); !ok {
						t.Fatalf("Next: unexpected error type %T: %v", err, err)
					}
					break
				}
				if rec.Row < 1 || rec.Line < 1 {
					t.Fatalf("bad position row %d line %d", rec.Row, rec.Line)
				}
				switch tbl {
				case member:
					_, _ = dp.Parse(rec)
				case plane:
					_, _ = fp.Parse(rec)
				default:
					_ = rp.Parse(rec)
				}
			}
			_ = fp.Finish()
		}
	})
}
