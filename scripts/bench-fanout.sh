#!/usr/bin/env bash
# The watch fan-out figure (issue 20): starts 3 agents on 127.0.0.2-4 (no
# container runtime), waits for their shards to settle, runs shoal-bench
# fanout (client-go pod informers on p1, pods created through p2, p1's CPU
# from /proc), and stops them. Traffic stays on loopback.
#
#   scripts/bench-fanout.sh [OBJECT_SHARDS] [shoal-bench fanout flags...]
#   e.g. scripts/bench-fanout.sh 4 --informers 100 --pods 1000
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-4}
shift || true
bench=fanout
# shellcheck source=scripts/three-agents.sh
source scripts/three-agents.sh
bin/shoal-bench fanout --kubeconfig "$dir/p1/admin.conf" --watch-server https://127.0.0.2:7948 \
	--write-server https://127.0.0.3:7948 --pid "${pids[0]}" "$@"
