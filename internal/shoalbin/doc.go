// Package shoalbin gives tests that run `shoal` as a process the binary to
// run: $SHOAL_BIN when set (make test sets it to bin/shoal), else one built
// for the test process. It is for tests only and imports nothing of
// Shoal's.
package shoalbin
