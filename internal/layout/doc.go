// Package layout holds no code, only the repository's architecture tests:
// which packages may import which (DESIGN's dependency rules), and that
// every package has a doc comment saying what it owns.
package layout
