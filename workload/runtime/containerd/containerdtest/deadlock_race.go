//go:build race

package containerdtest

import "github.com/sasha-s/go-deadlock"

// go-cni swaps its mutex for go-deadlock's in race builds, whose lock
// order check reports the independent CNI instances of parallel test
// runtimes as a potential deadlock and exits the test binary. Its
// time-out check stays on.
func init() {
	deadlock.Opts.DisableLockOrderDetection = true
}
