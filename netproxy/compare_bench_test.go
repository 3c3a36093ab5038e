package netproxy

import (
	"crypto/tls"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

// The comparisons, in one run on loopback: each path's bulk
// throughput and small request/response latency beside a direct connection
// to the server, a bare io.Copy relay, and (for the tunnel) a bare TLS
// relay. Run: go test -run '^$' -bench 'Throughput|Latency' ./netproxy/

// relay forwards each connection to target with io.Copy both ways: the
// least a userspace proxy can do.
func relay(b *testing.B, target string) string {
	return listenLoopback(b, func(c net.Conn) {
		if up, err := net.Dial("tcp", target); err == nil {
			pipe(c, up)
		}
	})
}

// tlsRelay forwards each connection over a TLS connection of its own to a
// TLS terminator in front of target: a bare TLS relay, to compare the
// tunnel with.
func tlsRelay(b *testing.B, target string) string {
	server, client := tunnelTLS(b)
	l, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		b.Fatal(err)
	}
	terminator := serveWith(b, l, func(c net.Conn) {
		if up, err := net.Dial("tcp", target); err == nil {
			pipe(c, up)
		}
	})
	return listenLoopback(b, func(c net.Conn) {
		if up, err := tls.Dial("tcp", terminator, client); err == nil {
			pipe(c, up)
		}
	})
}

// paths maps each way to reach the server at target to an address to dial.
func paths(b *testing.B, target string, names ...string) map[string]string {
	out := map[string]string{}
	for _, name := range names {
		switch name {
		case "direct":
			out[name] = target
		case "relay":
			out[name] = relay(b, target)
		case "tls-relay":
			out[name] = tlsRelay(b, target)
		case "proxy", "tunnel":
			ep := Endpoint{Addr: target}
			p := &Proxy{Log: quietLog()}
			if name == "tunnel" {
				tunnel, _, client := startTunnel(b, "127.0.0.0/8")
				p.Tunnel = &TunnelDialer{TLS: client}
				b.Cleanup(p.Tunnel.Close)
				ep.Tunnel = tunnel
			}
			bal := NewBalancer(time.Now, 0)
			bal.SetEndpoints([]Endpoint{ep})
			out[name] = serve(b, p, bal)
		}
	}
	return out
}

var compared = []string{"direct", "relay", "proxy", "tls-relay", "tunnel"}

func BenchmarkThroughput(b *testing.B) {
	for _, name := range compared {
		b.Run(name, func(b *testing.B) {
			addr := paths(b, sink(b), name)[name]
			chunk := make([]byte, 256<<10)
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			exchange(b, addr, chunk, b.N)
		})
	}
}

// BenchmarkLatency times 64-byte request/response pairs on one connection
// and reports their p50 and p99.
func BenchmarkLatency(b *testing.B) {
	echo := listenLoopback(b, func(c net.Conn) { _, _ = io.Copy(c, c) })
	for _, name := range compared {
		b.Run(name, func(b *testing.B) {
			addr := paths(b, echo, name)[name]
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg, got := make([]byte, 64), make([]byte, 64)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, got); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
		})
	}
}
