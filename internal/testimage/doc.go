// Package testimage builds container images from Go main packages without a
// registry or a docker daemon: it compiles the package statically
// (CGO_ENABLED=0), puts the binary in a single tar layer on an empty image
// (with any tools the spec names, such as the Toolbox's tar and test that
// kubectl cp runs, compiled the same way),
// sets the entrypoint, environment and exposed ports, and writes a
// docker-archive tar (the format `docker save` writes and containerd's image
// import reads) tagged with the names asked for.
//
// Build writes such a tar to a file, for users and the demo
// (cmd/shoal-image-build); Cached builds one once per test process and hands
// back its bytes, for tests that import it into a runtime.
//
// It needs the Go toolchain at run time (`go` on PATH, or GOROOT/bin/go), so
// it is for build tools and tests, never for the agent. It imports nothing of
// Shoal's.
package testimage
