package netproxy

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

// BenchmarkProxyUDP measures 64-byte datagrams answered by a UDP echo
// server on loopback (datagrams/s, each counted once, there and back):
// sent to it directly, through the proxy to it as a local pod, and
// through the proxy and the tunnel (TLS + yamux) as a remote one; one
// datagram in flight at a time (pingpong) and up to 16 (window16). A
// datagram not answered within a second counts as lost.
// Run: go test -run '^$' -bench ProxyUDP -benchtime 20000x ./netproxy/
func BenchmarkProxyUDP(b *testing.B) {
	for _, via := range []string{"direct", "proxy", "tunnel"} {
		for _, window := range []int{1, 16} {
			name := via + "/pingpong"
			if window > 1 {
				name = via + "/window16"
			}
			b.Run(name, func(b *testing.B) {
				c := udpClient(b, udpPath(b, udpEcho(b, "e"), via))
				msg, buf := make([]byte, 64), make([]byte, 2048)
				// The first datagram starts the session: not timed.
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(buf); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				sent, answered, lost := 0, 0, 0
				for answered+lost < b.N {
					for sent-answered-lost < window && sent < b.N {
						if _, err := c.Write(msg); err != nil {
							b.Fatal(err)
						}
						sent++
					}
					_ = c.SetReadDeadline(time.Now().Add(time.Second))
					if _, err := c.Read(buf); err != nil {
						if !errors.Is(err, os.ErrDeadlineExceeded) {
							b.Fatal(err)
						}
						lost += sent - answered - lost // what is in flight is gone
						continue
					}
					answered++
				}
				b.StopTimer()
				b.ReportMetric(float64(answered)/b.Elapsed().Seconds(), "dgrams/s")
				b.ReportMetric(float64(lost), "lost")
			})
		}
	}
}

// udpPath is an address that reaches the UDP server at target: itself
// (direct), or a UDP route of a proxy to it as a local endpoint (proxy)
// or through a tunnel (tunnel).
func udpPath(b *testing.B, target, via string) string {
	if via == "direct" {
		return target
	}
	p := &Proxy{Log: quietLog()}
	ep := Endpoint{Addr: target}
	if via == "tunnel" {
		tunnel, _, client := startTunnel(b, "127.0.0.0/8")
		p.Tunnel = &TunnelDialer{TLS: client}
		b.Cleanup(p.Tunnel.Close)
		ep.Tunnel = tunnel
	}
	r := Route{Name: udpRoute, Protocol: workload.ProtocolUDP, Listen: "127.0.0.1:0", Endpoints: []Endpoint{ep}}
	if err := p.Apply(b.Context(), []Route{r}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	addr, _ := p.Addr(udpRoute)
	return addr
}
