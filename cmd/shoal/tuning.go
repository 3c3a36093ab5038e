package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// envTuned marks an agent process that already runs with dragonboat's
// transport tuned.
const envTuned = "SHOAL_AGENT_TUNED"

// raftTransportTuning trims dragonboat's transport: by default every raft
// connection holds a 2 MiB send and a 2 MiB receive buffer, four
// connections per remote peer, about 34 MB of a 3-peer cluster's idle
// memory; each remote peer also gets a send queue of 2,048 messages and
// each replica a receive queue of 1,024. dragonboat reads these settings
// only from a dragonboat-soft-settings.json file in the working directory,
// when the process starts.
//
// One connection per remote peer and queues of 256 messages took an idle
// peer of a 3-peer cluster from 59-65 MB resident to 55-56.5 MB
// (BenchmarkIdlePeer, 2 runs each), with the store's write figure
// unchanged (scripts/bench-store.sh 4 --to-leaders: 15,000-15,800
// writes/s, p99 24 ms, against 13,300-16,300 and 21-28 ms). Every incoming
// connection still allocates a 2.1 MiB read buffer (SnapshotChunkSize plus
// 128 KiB, which no setting reaches); a message carries a batch of
// entries, so 256 queued messages is far more than a handful of shards
// needs.
var raftTransportTuning = map[string]uint64{
	"StreamConnections":        1,
	"PerConnectionSendBufSize": 256 << 10,
	"PerConnectionRecvBufSize": 256 << 10,
	"SendQueueLength":          256,
	"ReceiveQueueLength":       256,
}

// execTuned writes the settings file into the data directory and
// re-executes this agent with the data directory as its working directory
// (the same process ID, so supervisors and kill -9 see no difference). It
// returns only on failure, or when the process is already tuned.
func execTuned(dataDir string) error {
	if os.Getenv(envTuned) == "1" {
		return nil
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return fmt.Errorf("data dir %s: %w", abs, err)
	}
	b, _ := json.Marshal(raftTransportTuning)
	if err := os.WriteFile(filepath.Join(abs, "dragonboat-soft-settings.json"), b, 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.Chdir(abs); err != nil {
		return err
	}
	// The data dir given last wins, now absolute: relative paths would
	// otherwise resolve against the new working directory.
	args := append(append([]string(nil), os.Args...), "--data-dir="+abs)
	return syscall.Exec(self, args, append(os.Environ(), envTuned+"=1"))
}
