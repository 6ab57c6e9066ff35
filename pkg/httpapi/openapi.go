package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"sync"

	"go.yaml.in/yaml/v3"
)

// The OpenAPI document is kept as fragments, one file per API area, under
// openapi/: 00_base.yaml holds the header and shared components; every
// other file adds `paths` (and may add `components`). They are merged into
// one document at first use.
//
//go:embed openapi/*.yaml
var openAPIFiles embed.FS

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := mergeOpenAPI(openAPIFiles)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

func mergeOpenAPI(fsys fs.FS) (map[string]any, error) {
	names, err := fs.Glob(fsys, "openapi/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	doc := map[string]any{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := yaml.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("error parsing %s: %w", name, err)
		}
		if err := mergeInto(doc, part, name); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// mergeInto merges src into dst recursively; the same leaf defined twice is
// an error (two areas claiming one path or schema).
func mergeInto(dst, src map[string]any, where string) error {
	for k, v := range src {
		existing, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		a, aok := existing.(map[string]any)
		b, bok := v.(map[string]any)
		if !aok || !bok {
			return fmt.Errorf("openapi: %s redefines %q", where, k)
		}
		if err := mergeInto(a, b, where); err != nil {
			return err
		}
	}
	return nil
}

// OpenAPIDocument returns the merged contract as JSON.
func OpenAPIDocument() ([]byte, error) { return openAPIJSON() }

func (s *Server) openAPI(*http.Request) (response, error) {
	b, err := openAPIJSON()
	if err != nil {
		return response{}, err
	}
	return stream(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}), nil
}
