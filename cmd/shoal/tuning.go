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

// raftTransportTuning trims dragonboat's transport buffers: by default every
// raft connection holds a 2 MiB send and a 2 MiB receive buffer, four
// connections per remote peer, about 34 MB of a 3-peer cluster's idle
// memory. dragonboat reads these settings only from a
// dragonboat-soft-settings.json file in the working directory, when the
// process starts.
//
// What each setting costs an idle peer of a 3-peer cluster
// (BenchmarkIdlePeer, VmRSS of each agent over 2 runs):
//
//	2 connections, queues 2,048 send and 1,024 receive  59-65 MB
//	2 connections, queues of 256                          56-62 MB
//	1 connection, queues 2,048 and 1,024                  56-60 MB
//	1 connection, queues 1,024 and 512 (these settings)   55.8-57.8 MB
//	1 connection, queues of 256                           55-56.5 MB
//
// The last was tried first and taken back: the end-to-end tests on
// containerd then failed 3 runs in 6 (a rolling update behind a Service
// lost a quarter of its requests, twice in CI). The likely cause, not
// proven: one send queue carries every shard's messages to a peer,
// heartbeats included (5 shards at a 20 ms heartbeat is 250 messages a
// second), so a sender stalled on a loaded machine fills 256 slots in
// about a second; dragonboat drops what does not fit, and a dropped
// ReadIndex heartbeat stalls a linearizable read for a whole second.
// 1,024 slots hold about four seconds of that.
var raftTransportTuning = map[string]uint64{
	"StreamConnections":        1,
	"PerConnectionSendBufSize": 256 << 10,
	"PerConnectionRecvBufSize": 256 << 10,
	"SendQueueLength":          1024,
	"ReceiveQueueLength":       512,
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
