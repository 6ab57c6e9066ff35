// Package migrations embeds the SQL schema of the application and the
// vendored schema of River, both applied by golang-migrate (cmd/migrate).
//
// Two sequences live side by side, each with its own bookkeeping table:
//
//   - river/: River's own migrations, exported from rivermigrate by
//     `make river-sql` (version numbers are River's; version 1, River's
//     bookkeeping table, is skipped because golang-migrate keeps its own).
//     Bookkeeping table: river_schema_migrations.
//   - app/: the application schema. Bookkeeping table: schema_migrations.
//
// River's sequence always runs first on the way up and last on the way down.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed river/*.sql app/*.sql
var files embed.FS

// Set is one ordered sequence of migrations with its bookkeeping table.
type Set struct {
	Name  string // "river" or "app"
	Table string // golang-migrate bookkeeping table
	FS    fs.FS  // directory holding NNNNNN_name.{up,down}.sql
}

// Sets returns the migration sequences in the order they are applied up.
func Sets() []Set {
	river, _ := fs.Sub(files, "river")
	app, _ := fs.Sub(files, "app")
	return []Set{
		{Name: "river", Table: "river_schema_migrations", FS: river},
		{Name: "app", Table: "schema_migrations", FS: app},
	}
}

// LatestVersion returns the highest version number present in the set.
func (s Set) LatestVersion() (uint, error) {
	entries, err := fs.ReadDir(s.FS, ".")
	if err != nil {
		return 0, fmt.Errorf("error reading migrations %s: %w", s.Name, err)
	}
	var latest uint
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad migration file name %q: %w", e.Name(), err)
		}
		latest = max(latest, uint(v))
	}
	return latest, nil
}

// RiverFiles renders River's migrations (for the River version in go.mod) as
// golang-migrate files, keyed by file name. The schema placeholder is
// removed so that the tables land in the connection's search_path.
func RiverFiles() (map[string]string, error) {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return nil, fmt.Errorf("error building river migrator: %w", err)
	}
	versions := m.AllVersions()
	sort.Slice(versions, func(i, j int) bool { return versions[i].Version < versions[j].Version })
	out := make(map[string]string, 2*len(versions))
	for _, v := range versions {
		if v.Version == 1 { // river_migration bookkeeping: golang-migrate keeps its own
			continue
		}
		base := fmt.Sprintf("%06d_river_%s", v.Version, strings.ReplaceAll(v.Name, " ", "_"))
		out[base+".up.sql"] = stripTemplate(v.SQLUp)
		out[base+".down.sql"] = stripTemplate(v.SQLDown)
	}
	return out, nil
}

func stripTemplate(sql string) string {
	return strings.TrimSpace(strings.ReplaceAll(sql, "/* TEMPLATE: schema */", "")) + "\n"
}
