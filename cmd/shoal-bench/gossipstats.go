package main

import (
	"fmt"
	"strings"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// gossipStats counts what memberlist and serf report through go-metrics
// in this process (every member's, summed), a second at a time, so the
// hollow benchmark can show how busy the fleet's gossip is: a thousand
// members in one process share its cores with the peers they load.
type gossipStats struct {
	sink *metrics.InmemSink
}

// startGossipStats installs the process-wide go-metrics sink.
func startGossipStats() (*gossipStats, error) {
	sink := metrics.NewInmemSink(time.Second, 10*time.Second)
	cfg := metrics.DefaultConfig("")
	cfg.EnableHostname, cfg.EnableRuntimeMetrics, cfg.EnableServiceLabel = false, false, false
	if _, err := metrics.NewGlobal(cfg, sink); err != nil {
		return nil, err
	}
	return &gossipStats{sink: sink}, nil
}

// lastSecond sums the last complete interval's counters: accepted alive,
// suspect and dead messages, probes that degraded, and bytes of gossip
// packets sent.
func (g *gossipStats) lastSecond() string {
	data := g.sink.Data()
	if len(data) < 2 {
		return "gossip: -"
	}
	iv := data[len(data)-2]
	iv.RLock()
	defer iv.RUnlock()
	sums := map[string]float64{}
	for key, c := range iv.Counters {
		sums[key[:strings.IndexByte(key+";", ';')]] += c.Sum
	}
	return fmt.Sprintf("gossip/s: alive=%.0f suspect=%.0f dead=%.0f degraded-probes=%.0f packets=%.0fKB",
		sums["memberlist.msg.alive"], sums["memberlist.msg.suspect"], sums["memberlist.msg.dead"],
		sums["memberlist.degraded.probe"], sums["memberlist.udp.sent"]/1024)
}
