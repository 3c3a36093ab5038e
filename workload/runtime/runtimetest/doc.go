// Package runtimetest is the one conformance suite for runtime.Runtime:
// the containerd runtime and the fake both pass Run, so the agent can be
// tested on the fake and trusted on the real thing.
//
// The suite runs the program testee (runtimetest/testee) in its
// containers: its arguments are a small script ("echo hi wait", "exit 3")
// that the real runtime executes in the testee image (TesteeSpec) and that
// FakeBehaviour turns into a fake.Behaviour, so one test reads the same on
// both.
//
//	func TestConformance(t *testing.T) {
//		runtimetest.Run(t, runtimetest.Harness{
//			New:      func(t *testing.T, owner string) runtime.Runtime { ... },
//			ImageTar: testimage.Cached(t, runtimetest.TesteeSpec),
//		})
//	}
//
// It is for tests only. It must not import peer, consensus, gossip or cmd.
package runtimetest
