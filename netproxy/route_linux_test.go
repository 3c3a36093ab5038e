package netproxy

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// inNewNetns runs f on a thread in a network namespace of its own, made
// for the test and gone after it. Its loopback link is up and its default
// route leads out, as on a host: in a namespace with no routes at all the
// kernel lets a socket bind any address.
func inNewNetns(t *testing.T, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root to make a network namespace")
		}
		t.Skip("needs root to make a network namespace")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with its namespace
		if _, err := netns.New(); err != nil {
			t.Error(err)
			return
		}
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err == nil {
			err = netlink.RouteAdd(&netlink.Route{LinkIndex: lo.Attrs().Index, Scope: netlink.SCOPE_LINK, Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}})
		}
		if err != nil {
			t.Error(err)
			return
		}
		f()
	}()
	<-done
}

// With the route, the proxy listens on any cluster IP and connections to
// it arrive; without it, nothing can listen there.
func TestServiceRouteMakesClusterIPsLocal(t *testing.T) {
	inNewNetns(t, func() {
		if ln, err := net.Listen("tcp", "10.96.0.10:80"); err == nil {
			ln.Close()
			t.Error("listened on a cluster IP before the route")
			return
		}
		r := &ServiceRoute{Prefix: netip.MustParsePrefix("10.96.0.0/12")}
		if err := r.Ensure(); err != nil {
			t.Error(err)
			return
		}
		if err := r.Ensure(); err != nil { // again: no change, no error
			t.Error(err)
			return
		}
		ln, err := net.Listen("tcp", "10.96.0.10:80")
		if err != nil {
			t.Errorf("listen on a cluster IP: %v", err)
			return
		}
		defer ln.Close()
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Write([]byte("x"))
				c.Close()
			}
		}()
		conn, err := net.Dial("tcp", "10.96.0.10:80")
		if err != nil {
			t.Errorf("connect to the cluster IP: %v", err)
			return
		}
		b := make([]byte, 1)
		if _, err := conn.Read(b); err != nil || b[0] != 'x' {
			t.Errorf("read through the cluster IP: %q, %v", b, err)
		}
		conn.Close()
		ln.Close()
		if err := r.Remove(); err != nil {
			t.Error(err)
		}
		if ln, err := net.Listen("tcp", "10.96.0.11:80"); err == nil {
			ln.Close()
			t.Error("listened on a cluster IP after the route was removed")
		}
		if err := r.Remove(); err != nil {
			t.Errorf("removing a route that is gone: %v", err)
		}
	})
}
