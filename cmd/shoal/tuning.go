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
// Tried and taken back: one connection per remote peer and send and
// receive queues of 256 messages took an idle peer from 59-65 MB resident
// to 55-56.5 MB with the write figure unchanged, but the end-to-end tests
// on containerd then failed 3 runs in 6 (a rolling update behind a Service
// lost a quarter of its requests, twice in CI), against none in 5 runs
// before. The likely cause, not proven: one queue then carries every
// shard's messages to a peer,
// heartbeats included (5 shards at a 20 ms heartbeat is 250 messages a
// second); a sender stalled on a loaded machine fills it, and a dropped
// ReadIndex heartbeat stalls a linearizable read for a whole second.
var raftTransportTuning = map[string]uint64{
	"StreamConnections":        2,
	"PerConnectionSendBufSize": 256 << 10,
	"PerConnectionRecvBufSize": 256 << 10,
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
