// Package conformance checks the Go node's codec against the hb v1
// conformance vectors in proto/testdata (see vectors_test.go). Set
// HB_TESTDATA to read them from another directory.
package conformance
