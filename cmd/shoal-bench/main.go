// Command shoal-bench measures Shoal's replicated store.
//
//	shoal-bench store --data-dir DIR --server HOST:PORT[,HOST:PORT...] [--clients 128] [--duration 10s] [--size 256]
//
// writes objects through running peers' store path (the proposal pipeline a
// peer without a replica forwards writes on; --per-request for a request
// per write), as a peer: it borrows the peer
// certificate in DIR/pki. Each client is closed-loop: one write in flight.
//
//	shoal-bench bare [--clients 256] [--duration 10s] [--size 256]
//
// runs three dragonboat NodeHosts in this process with mutual TLS and a
// state machine that does nothing, for comparison with the bare library.
// Both print writes/s and latency percentiles.
//
//	shoal-bench hollow [--nodes 1000] [--pods 10000] [--object-shards 4]
//
// starts three peers in this process and --nodes hollow nodes (gossip in
// memory, fake runtime), applies a Deployment of --pods replicas, and
// prints the pods/s from the apply to every binding committed and to every
// pod Running. Traffic goes to loopback only. With --list it then times
// kubectl's and shoal's listing of every pod through a fourth peer that
// holds no replica.
//
//	shoal-bench fanout --kubeconfig admin.conf --watch-server URL --write-server URL [--pid PID] [--informers 100] [--pods 1000]
//
// runs client-go pod informers against one peer while pods are created
// through another, and prints when every informer has seen every pod and
// the watched peer's CPU (scripts/bench-fanout.sh starts the agents).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shoalproject/shoal/consensus"
	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/peer/api"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: shoal-bench store|bare|hollow|fanout [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "store":
		err = storeBench(os.Args[2:])
	case "bare":
		err = bareBench(os.Args[2:])
	case "hollow":
		err = hollowBench(os.Args[2:])
	case "fanout":
		err = fanoutBench(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: shoal-bench store|bare|hollow|fanout [flags]")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// result gathers latencies of successful writes.
type result struct {
	mu       sync.Mutex
	lat      []time.Duration
	failures int
	cpu      float64 // seconds of CPU this process used during the run
}

func (r *result) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failures++
		return
	}
	r.lat = append(r.lat, d)
}

func (r *result) print(what string, clients int, elapsed time.Duration) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
	}
	fmt.Printf("%s: %d clients, %d writes in %s: %.0f writes/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d failed\n",
		what, clients, len(r.lat), elapsed.Round(time.Millisecond), float64(len(r.lat))/elapsed.Seconds(),
		ms(pct(0.50)), ms(pct(0.99)), ms(pct(1)), r.failures)
	fmt.Printf("  the benchmark process itself used %.1f s of CPU (%.0f%% of one core)\n", r.cpu, 100*r.cpu/elapsed.Seconds())
}

// processCPU is the user and system CPU this process has used, in seconds.
func processCPU() float64 {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return float64(r.Utime.Sec+r.Stime.Sec) + float64(r.Utime.Usec+r.Stime.Usec)/1e6
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// run drives clients closed-loop for a duration.
func run(clients int, d time.Duration, write func(ctx context.Context, client, i int) error) (*result, time.Duration) {
	res := &result{}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				t0 := time.Now()
				wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := write(wctx, c, i)
				wcancel()
				if ctx.Err() != nil && err != nil {
					return
				}
				res.add(time.Since(t0), err)
			}
		}()
	}
	wg.Wait()
	res.cpu = processCPU() - cpu0
	return res, time.Since(start)
}

func storeBench(args []string) error {
	fs := flag.NewFlagSet("store", flag.ExitOnError)
	dataDir := fs.String("data-dir", "", "a peer's data dir, for its certificate")
	servers := fs.String("server", "", "comma-separated API addresses of peers to write through")
	clients := fs.Int("clients", 128, "closed-loop clients")
	dur := fs.Duration("duration", 10*time.Second, "how long to write")
	size := fs.Int("size", 256, "object size in bytes")
	shards := fs.Int("object-shards", 4, "the cluster's object shards")
	perRequest := fs.Bool("per-request", false, "one HTTP/2 request per write instead of the peers' proposal pipeline")
	toLeaders := fs.Bool("to-leaders", false, "send each write to its shard leader's peer (as a leader-aware client would)")
	_ = fs.Parse(args)
	if *dataDir == "" || *servers == "" {
		return fmt.Errorf("--data-dir and --server are required: %w", errdefs.ErrInvalid)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(*dataDir, "pki/peer.crt"), filepath.Join(*dataDir, "pki/peer.key"))
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(filepath.Join(*dataDir, "pki/ca.crt"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tc := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}
	var cls []*api.Client
	for _, s := range strings.Split(*servers, ",") {
		cls = append(cls, api.NewClientTLS([]string{s}, tc, ""))
	}
	router := consensus.Router{ObjectShards: *shards}
	leaderOf := map[uint64]*api.Client{}
	if *toLeaders {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		infos, err := cls[0].Shards(ctx)
		if err != nil {
			return err
		}
		ml, err := cls[0].Members(ctx)
		if err != nil {
			return err
		}
		apiOf := map[string]string{}
		for _, m := range ml.Members {
			apiOf[m.Name] = m.API
		}
		for _, in := range infos {
			leaderOf[in.ID] = api.NewClientTLS([]string{apiOf[in.Leader]}, tc, "")
		}
	}
	var firstErr atomic.Pointer[error]
	payload := []byte(`{"v":"` + strings.Repeat("x", max(0, *size-8)) + `"}`)
	runID := fmt.Sprintf("r%06d", rand.IntN(1000000)) // names never collide with an earlier run's
	res, elapsed := run(*clients, *dur, func(ctx context.Context, c, i int) error {
		o := consensus.Object{Kind: "ConfigMap", Namespace: "bench", Name: fmt.Sprintf("%s-c%d-%d", runID, c, i), Data: payload}
		shard := router.ShardFor(o.Key(), "")
		body, err := consensus.EncodeBatch(consensus.Batch{Commands: []consensus.Command{{Op: consensus.OpCreate, Object: o}}})
		if err != nil {
			return err
		}
		cl := cls[c%len(cls)]
		if l, ok := leaderOf[shard]; ok {
			cl = l
		}
		var raw []byte
		if *perRequest {
			var r api.Raw
			err = cl.Do(ctx, http.MethodPost, fmt.Sprintf("/v1/internal/shards/%d/propose", shard),
				api.Raw{ContentType: api.ContentTypeBinary, Data: body}, &r)
			raw = r.Data
		} else {
			raw, err = cl.Propose(ctx, shard, body, false)
		}
		if err == nil {
			var r consensus.Result
			if r, err = consensus.DecodeResult(raw); err == nil {
				err = r.Error()
			}
		}
		if err != nil && firstErr.CompareAndSwap(nil, &err) {
			fmt.Fprintln(os.Stderr, "first error:", err)
		}
		return err
	})
	how := "proposal pipeline"
	if *perRequest {
		how = "a request per write"
	}
	res.print("shoal store (3 peer processes, forwarded propose over HTTPS: "+how+", raft over mTLS)", *clients, elapsed)
	return nil
}
