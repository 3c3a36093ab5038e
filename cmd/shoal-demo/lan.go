package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/vishvananda/netns"
)

// The peers' LAN: a bridge on this host (NAME-lan, SUBNET.254) and, per
// peer, a network namespace (NAME-peerN) joined to it by a veth pair whose
// host end is NAME-vN and whose inside end is the namespace's eth0
// (SUBNET.N). Cutting a peer's link is `ip link set NAME-vN down`.

func (o options) bridge() string          { return o.Name + "-lan" }
func (o options) veth(n int) string       { return fmt.Sprintf("%s-v%d", o.Name, n) }
func (o options) peerNetns(n int) string  { return fmt.Sprintf("%s-peer%d", o.Name, n) }
func (o options) peerName(n int) string   { return fmt.Sprintf("peer%d", n) }
func (o options) hostIP() netip.Addr      { return o.at(254) }
func (o options) peerIP(n int) netip.Addr { return o.at(byte(n)) }

func (o options) at(last byte) netip.Addr {
	a := o.Subnet.Addr().As4()
	a[3] = last
	return netip.AddrFrom4(a)
}

// makeLAN creates the bridge and every peer's namespace on it.
func (d *demo) makeLAN(ctx context.Context) error {
	o := d.o
	cidr := func(a netip.Addr) string { return netip.PrefixFrom(a, 24).String() }
	cmds := [][]string{
		{"ip", "link", "add", o.bridge(), "type", "bridge"},
		{"ip", "addr", "add", cidr(o.hostIP()), "dev", o.bridge()},
		{"ip", "link", "set", o.bridge(), "up"},
	}
	for n := 1; n <= o.Peers; n++ {
		ns, inner := o.peerNetns(n), fmt.Sprintf("%s-i%d", o.Name, n)
		cmds = append(cmds,
			[]string{"ip", "netns", "add", ns},
			[]string{"ip", "link", "add", o.veth(n), "type", "veth", "peer", "name", inner},
			[]string{"ip", "link", "set", inner, "netns", ns},
			[]string{"ip", "link", "set", o.veth(n), "master", o.bridge(), "up"},
			[]string{"ip", "-n", ns, "link", "set", inner, "name", "eth0"},
			[]string{"ip", "-n", ns, "addr", "add", cidr(o.peerIP(n)), "dev", "eth0"},
			[]string{"ip", "-n", ns, "link", "set", "eth0", "up"},
			[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
			[]string{"ip", "-n", ns, "route", "add", "default", "via", o.hostIP().String()},
		)
	}
	for _, c := range cmds {
		if err := run(ctx, c...); err != nil {
			return err
		}
	}
	for n := 1; n <= o.Peers; n++ {
		fmt.Fprintf(o.Out, "%s: network namespace %s, %s on %s\n", o.peerName(n), o.peerNetns(n), o.peerIP(n), o.bridge())
	}
	return nil
}

// removeLAN deletes the namespaces (their veths go with them) and the
// bridge; what is not there is skipped.
func removeLAN(ctx context.Context, o options) {
	for n := 1; n <= o.Peers; n++ {
		_ = run(ctx, "ip", "netns", "del", o.peerNetns(n))
		_ = run(ctx, "ip", "link", "del", o.veth(n))
	}
	_ = run(ctx, "ip", "link", "del", o.bridge())
}

// run runs a command, and on failure returns its output with the error.
func run(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// nsDialer makes TCP connections from inside a network namespace: one
// goroutine, locked to an OS thread that has entered the namespace, dials
// every connection, so the sockets belong to that namespace. Connections
// are then used from any goroutine.
type nsDialer struct {
	reqs chan dialRequest
	done chan struct{} // closed by Close
}

type dialRequest struct {
	ctx   context.Context
	addr  string
	reply chan dialResult
}

type dialResult struct {
	conn net.Conn
	err  error
}

// newNSDialer enters the namespace at path (/var/run/netns/NAME).
func newNSDialer(path string) (*nsDialer, error) {
	d := &nsDialer{reqs: make(chan dialRequest), done: make(chan struct{})}
	entered := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, still in
		// the namespace, and is never reused by another goroutine.
		runtime.LockOSThread()
		h, err := netns.GetFromPath(path)
		if err == nil {
			err = netns.Set(h)
			h.Close()
		}
		entered <- err
		if err != nil {
			return
		}
		dialer := net.Dialer{Timeout: dialTimeout}
		for {
			select {
			case <-d.done:
				return
			case r := <-d.reqs:
				c, err := dialer.DialContext(r.ctx, "tcp", r.addr)
				r.reply <- dialResult{c, err} // buffered: never blocks
			}
		}
	}()
	if err := <-entered; err != nil {
		return nil, fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	return d, nil
}

// DialContext dials addr from inside the namespace.
func (d *nsDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	r := dialRequest{ctx: ctx, addr: addr, reply: make(chan dialResult, 1)}
	select {
	case d.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-d.done:
		return nil, net.ErrClosed
	}
	res := <-r.reply
	return res.conn, res.err
}

// dialTimeout bounds one dial, so that an address that drops packets
// does not hold the namespace's only dialing thread.
const dialTimeout = 3 * time.Second

// Close ends the dialing goroutine and its thread; dials asked for later
// fail.
func (d *nsDialer) Close() { close(d.done) }

// client is an HTTP client whose every request is a new connection made
// from inside the namespace.
func (d *nsDialer) client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}
