package netproxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ServiceRoute makes every address of the service CIDR local to the peer's
// network namespace, with one route of type local through the loopback
// link ("AnyIP", as 127.0.0.0/8 is local): the proxy can then listen on
// any cluster IP, and the host and its pods (through their gateway) reach
// cluster IPs as local addresses, with no iptables and no address per
// service. Kubernetes' IPVS mode puts each address on a dummy link
// instead; this machine class's kernel has no dummy links. Needs
// CAP_NET_ADMIN.
type ServiceRoute struct {
	Prefix netip.Prefix
}

func (r *ServiceRoute) route() (*netlink.Route, error) {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return nil, fmt.Errorf("service route: the loopback link: %w", err)
	}
	return &netlink.Route{
		LinkIndex: lo.Attrs().Index,
		Dst:       &net.IPNet{IP: r.Prefix.Masked().Addr().AsSlice(), Mask: net.CIDRMask(r.Prefix.Bits(), r.Prefix.Addr().BitLen())},
		Type:      unix.RTN_LOCAL,
		Table:     unix.RT_TABLE_LOCAL,
		Scope:     netlink.SCOPE_HOST,
	}, nil
}

// Ensure adds the route unless it is there.
func (r *ServiceRoute) Ensure() error {
	rt, err := r.route()
	if err != nil {
		return err
	}
	if err := netlink.RouteReplace(rt); err != nil {
		return fmt.Errorf("service route: local %s dev lo: %w", r.Prefix, err)
	}
	return nil
}

// Remove deletes the route, if it is there.
func (r *ServiceRoute) Remove() error {
	rt, err := r.route()
	if err != nil {
		return err
	}
	if err := netlink.RouteDel(rt); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("service route: remove local %s: %w", r.Prefix, err)
	}
	return nil
}
