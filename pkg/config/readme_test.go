package config_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/config"
)

// The README documents every variable a binary reads.
func TestREADMEListsEveryVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, b := range []string{"api", "worker", "migrate"} {
		for _, v := range config.Docs(b) {
			require.Contains(t, string(readme), "`"+v.Name+"`", "README.md must document %s (read by %s)", v.Name, b)
		}
	}
}
