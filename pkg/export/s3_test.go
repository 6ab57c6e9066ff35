package export_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
	"github.com/co2-calculator/co2-calculator/pkg/blob/blobtest"
	"github.com/co2-calculator/co2-calculator/pkg/export"
)

// On the S3 backend (versitygw) a download is a presigned URL: the browser
// gets the file from the store, named as an attachment.
func TestDownloadPresignedS3(t *testing.T) {
	ctx := t.Context()
	store, err := blob.New(ctx, blobtest.S3(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close(); blobtest.Stop() })
	f := newFixture(t)
	f.svc.Blob = store

	c, err := f.svc.Create(ctx, f.principal, export.Request{Kind: "unit_results", Format: "csv",
		Params: params(t, map[string]any{"unit_id": f.unit.ID, "year": f.year})})
	require.NoError(t, err)
	require.NoError(t, f.svc.Run(ctx, c.Export.ID, noFinish))
	d, err := f.svc.Download(ctx, f.principal, c.Export.ID)
	require.NoError(t, err)
	require.Nil(t, d.Body)
	require.NotEmpty(t, d.URL)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Disposition"), *d.Export.Filename)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, *d.Export.SizeBytes, int64(len(b)))
	header, _ := readCSV(t, b)
	require.Equal(t, "unit_cf", header[0])
}
