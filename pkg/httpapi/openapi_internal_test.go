package httpapi

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestMergeOpenAPI(t *testing.T) {
	t.Parallel()
	ok := fstest.MapFS{
		"openapi/00_base.yaml": {Data: []byte("openapi: 3.1.0\ncomponents:\n  schemas:\n    A: {type: string}\n")},
		"openapi/x.yaml":       {Data: []byte("paths:\n  /x:\n    get: {operationId: getX}\n")},
		"openapi/y.yaml":       {Data: []byte("paths:\n  /x:\n    post: {operationId: postX}\ncomponents:\n  schemas:\n    B: {type: integer}\n")},
	}
	doc, err := mergeOpenAPI(ok)
	require.NoError(t, err)
	x := doc["paths"].(map[string]any)["/x"].(map[string]any)
	require.Contains(t, x, "get")
	require.Contains(t, x, "post")
	require.Len(t, doc["components"].(map[string]any)["schemas"], 2)

	dup := fstest.MapFS{
		"openapi/a.yaml": {Data: []byte("paths:\n  /x:\n    get: {operationId: a}\n")},
		"openapi/b.yaml": {Data: []byte("paths:\n  /x:\n    get: {operationId: b}\n")},
	}
	_, err = mergeOpenAPI(dup)
	require.ErrorContains(t, err, "b.yaml redefines")
}
