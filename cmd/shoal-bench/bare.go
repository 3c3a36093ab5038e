package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/config"
	dlog "github.com/lni/dragonboat/v4/logger"
	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/shoalproject/shoal/internal/pki"
)

// nopSM counts entries and does nothing else: bare dragonboat.
type nopSM struct{ n uint64 }

func (s *nopSM) Update(e sm.Entry) (sm.Result, error) { s.n++; return sm.Result{Value: e.Index}, nil }
func (s *nopSM) Lookup(any) (any, error)              { return s.n, nil }
func (s *nopSM) SaveSnapshot(io.Writer, sm.ISnapshotFileCollection, <-chan struct{}) error {
	return nil
}
func (s *nopSM) RecoverFromSnapshot(io.Reader, []sm.SnapshotFile, <-chan struct{}) error { return nil }
func (s *nopSM) Close() error                                                            { return nil }

func bareBench(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	clients := fs.Int("clients", 256, "closed-loop proposers")
	dur := fs.Duration("duration", 10*time.Second, "how long to propose")
	size := fs.Int("size", 256, "proposal size in bytes")
	_ = fs.Parse(args)
	for _, n := range []string{"dragonboat", "raft", "rsm", "transport", "logdb", "config", "raftpb"} {
		dlog.GetLogger(n).SetLevel(dlog.CRITICAL)
	}
	dir, err := os.MkdirTemp("", "shoal-bare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ca, err := pki.NewCA("bench", time.Now())
	if err != nil {
		return err
	}
	var addrs []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	initial := map[uint64]dragonboat.Target{1: addrs[0], 2: addrs[1], 3: addrs[2]}
	var hosts []*dragonboat.NodeHost
	for i := range 3 {
		d := filepath.Join(dir, fmt.Sprint(i))
		key, cert, err := ca.Issue(pki.CertRequest{CommonName: fmt.Sprint(i), Organization: pki.OrgPeers, IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Now())
		if err != nil {
			return err
		}
		kp, _ := pki.EncodeKey(key)
		_ = os.MkdirAll(d, 0o700)
		for f, b := range map[string][]byte{"ca.crt": pki.EncodeCert(ca.Cert), "peer.crt": pki.EncodeCert(cert), "peer.key": kp} {
			if err := os.WriteFile(filepath.Join(d, f), b, 0o600); err != nil {
				return err
			}
		}
		logdb := config.GetTinyMemLogDBConfig()
		logdb.Shards = 1
		nh, err := dragonboat.NewNodeHost(config.NodeHostConfig{
			NodeHostDir: d, RTTMillisecond: 20, RaftAddress: addrs[i],
			MutualTLS: true, CAFile: filepath.Join(d, "ca.crt"), CertFile: filepath.Join(d, "peer.crt"), KeyFile: filepath.Join(d, "peer.key"),
			Expert: config.ExpertConfig{LogDB: logdb},
		})
		if err != nil {
			return err
		}
		defer nh.Close()
		hosts = append(hosts, nh)
		rc := config.Config{ReplicaID: uint64(i + 1), ShardID: 1, ElectionRTT: 10, HeartbeatRTT: 1, CheckQuorum: true, SnapshotEntries: 10000, CompactionOverhead: 5000}
		if err := nh.StartReplica(initial, false, func(uint64, uint64) sm.IStateMachine { return &nopSM{} }, rc); err != nil {
			return err
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, _, ok, _ := hosts[0].GetLeaderID(1); ok {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no leader")
		}
		time.Sleep(20 * time.Millisecond)
	}
	payload := make([]byte, *size)
	res, elapsed := run(*clients, *dur, func(ctx context.Context, c, i int) error {
		nh := hosts[c%3]
		_, err := nh.SyncPropose(ctx, nh.GetNoOPSession(1), payload)
		return err
	})
	res.print("bare dragonboat (3 NodeHosts in one process, mutual TLS, no-op state machine, one shard)", *clients, elapsed)
	return nil
}
