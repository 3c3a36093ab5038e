package netproxy

import (
	"io"
	"net"
	"testing"
	"time"
)

// sink accepts connections and discards what they send, answering one
// byte once the sender half-closes.
func sink(b *testing.B) string {
	return listenLoopback(b, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
		_, _ = c.Write([]byte{1})
	})
}

// BenchmarkProxy measures, through the proxy on loopback, new connections
// that send 1 KiB each (conns/s) and one connection's bulk throughput
// (MB/s), to a local pod (proxy, spliced) and through the tunnel (TLS +
// yamux).
// Run: go test -run '^$' -bench Proxy ./netproxy/
func BenchmarkProxy(b *testing.B) {
	for _, via := range []string{"proxy", "tunnel"} {
		setup := func(b *testing.B) string { return paths(b, sink(b), via)[via] }
		b.Run(via+"/connections", func(b *testing.B) {
			addr := setup(b)
			msg := make([]byte, 1024)
			b.ResetTimer()
			for range b.N {
				exchange(b, addr, msg, 1)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
		})
		b.Run(via+"/bulk", func(b *testing.B) {
			addr := setup(b)
			chunk := make([]byte, 256<<10)
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			exchange(b, addr, chunk, b.N)
		})
	}
}

// exchange opens a connection through addr, writes msg n times,
// half-closes, and waits for the sink's byte.
func exchange(b *testing.B, addr string, msg []byte, n int) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	for range n {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	_ = c.(*net.TCPConn).CloseWrite()
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		b.Fatal(err)
	}
}
