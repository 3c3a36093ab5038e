#!/usr/bin/env bash
# The store's write figure through agent processes (issue 3): starts 3 agents
# on 127.0.0.2-4 (no container runtime; profiler on :6060 of each), waits
# for their shards to settle, runs shoal-bench store against them, and
# stops them. Traffic stays on loopback.
#
#   scripts/bench-store.sh [OBJECT_SHARDS] [shoal-bench store flags...]
#   e.g. scripts/bench-store.sh 1 --to-leaders --duration 8s
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-4}
shift || true
bench=store
# shellcheck source=scripts/three-agents.sh
source scripts/three-agents.sh
bin/shoal-bench store --data-dir "$dir/p1" --server 127.0.0.2:7948,127.0.0.3:7948,127.0.0.4:7948 \
	--object-shards "$shards" --clients 128 --duration 10s "$@"
