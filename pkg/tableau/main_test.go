package tableau_test

import (
	"testing"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }
