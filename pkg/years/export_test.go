package years

// Test-only access to internals for package years_test.

// MergeConfig is the deep merge of a configuration patch.
var MergeConfig = merge
