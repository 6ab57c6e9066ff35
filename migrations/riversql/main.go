// Command riversql exports River's schema migrations from rivermigrate into
// migrations/river as ordinary golang-migrate files, so that cmd/migrate
// applies River's schema in the same run as the application's own.
//
// Run it through `make river-sql` after upgrading River in go.mod; a test in
// package migrations fails when the vendored files are stale.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/co2-calculator/co2-calculator/migrations"
)

func main() {
	dir := flag.String("dir", "migrations/river", "output directory")
	flag.Parse()

	files, err := migrations.RiverFiles()
	if err != nil {
		log.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(*dir, "*.sql"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			log.Fatal(err)
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(content), 0o644); err != nil { //nolint:gosec // migration files are public
			log.Fatal(err)
		}
	}
	fmt.Printf("wrote %d files to %s\n", len(files), *dir)
}
