package blob_test

import (
	"testing"

	"github.com/co2-calculator/co2-calculator/pkg/blob/blobtest"
)

func TestMain(m *testing.M) { blobtest.WrapTestMain(m) }
