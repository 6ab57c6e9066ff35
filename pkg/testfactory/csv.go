package testfactory

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// PlaneTripsCSV builds a year-scope plane-trip upload of n distinct rows
// for unit cf in year, between the IATA codes of the sample plane file at
// samplePath (every row differs by its note). Used by the upload tests and
// benchmarks.
func PlaneTripsCSV(tb testing.TB, samplePath, cf string, year, n int) []byte {
	tb.Helper()
	f, err := os.Open(samplePath)
	require.NoError(tb, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(tb, err)
	seen := map[string]bool{}
	var codes []string
	for _, r := range recs[1:] {
		for _, c := range r[2:4] {
			if !seen[c] {
				seen[c] = true
				codes = append(codes, c)
			}
		}
	}
	require.Greater(tb, len(codes), 10)
	cabins := strings.Fields("economy business first")
	var b bytes.Buffer
	b.WriteString("unit_institutional_id,user_institutional_id,origin_iata,destination_iata,departure_date,number_of_trips,cabin_class,note\n")
	for i := range n {
		o := codes[i%len(codes)]
		d := codes[(i/len(codes)+i+1)%len(codes)]
		if d == o {
			d = codes[(i+2)%len(codes)]
		}
		fmt.Fprintf(&b, "%s,%d,%s,%s,%d-%02d-%02d,%d,%s,trip %d\n", cf, 100001+i%50, o, d, year, 1+i%12, 1+i%28, 1+i%3, cabins[i%3], i)
	}
	return b.Bytes()
}
