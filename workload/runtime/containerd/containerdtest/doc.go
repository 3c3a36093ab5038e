// Package containerdtest gives a test its own containerd: a private daemon
// with its own root, state directory and socket under a short temporary
// directory, so tests never touch (or need) the machine's containerd and
// several test packages can run side by side.
//
//	d := containerdtest.Start(t) // skips unless root, or fails with CI=true
//	bridge, cidr := containerdtest.Network(t)
//	rt, err := containerd.New(ctx, containerd.Config{
//		Address: d.Address, Namespace: "peer-1",
//		StateDir: filepath.Join(d.Dir, "peer-1"),
//		PodCIDR: cidr, BridgeName: bridge,
//		NetNSPrefix: containerdtest.NetNSPrefix() + "peer-1-",
//	})
//
// Start waits until the daemon answers (polling with a deadline) and, at
// test cleanup, kills every task left in every containerd namespace, stops
// the daemon and removes its directory. Require only checks what the
// runtime needs (root, containerd, runc, the CNI plugins) and skips or
// fails the test as Start does. Network picks a bridge name and a free
// /24 in 10.150.0.0/9 and deletes the bridge at cleanup; remove the
// runtime's sandboxes before that (register their cleanup after calling
// Network), so no network namespace outlives the test.
//
// A test process that dies without cleaning up (kill -9, a test
// binary's time-out) leaves its daemon, tasks, bridges and network
// namespaces behind; the next Start on the machine removes them, finding
// them by the dead process's pid in their names (the daemon's directory,
// Network's bridge names, NetNSPrefix).
//
// It is for tests only and imports nothing of Shoal's: never import it
// from production code.
package containerdtest
