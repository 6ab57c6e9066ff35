// Package e2e holds end-to-end tests that build the real api, worker and
// migrate binaries and run them against a fresh database, the fake external
// services and each other. It has no production code.
package e2e
