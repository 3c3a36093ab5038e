#!/usr/bin/env bash
# A local 3-peer Shoal cluster on 127.0.0.1.
#   examples/local-cluster.sh up     start it (idempotent: stops a previous one first)
#   examples/local-cluster.sh down   stop it and remove everything it created
# Peer N listens on gossip 7946+100(N-1), raft +1, api +2, tunnel +3.
# SHOAL_AGENT_FLAGS adds flags to every agent (e.g. "--object-shards 2").
set -euo pipefail

DEMO_DIR=${DEMO_DIR:-$PWD/.demo}
SHOAL_BIN=${SHOAL_BIN:-$PWD/bin/shoal}
PEERS=${PEERS:-3}
ZONES=(zone-a zone-b zone-c)

port() { echo $((7946 + 100 * ($1 - 1) + $2)); }   # port PEER OFFSET
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

down() {
  if [ -d "$DEMO_DIR" ]; then
    for pidf in "$DEMO_DIR"/peer*/agent.pid; do
      [ -f "$pidf" ] || continue
      pid=$(cat "$pidf")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$DEMO_DIR"
  fi
}

start_peer() { # start_peer N [join-args...]
  local n=$1; shift
  local dir="$DEMO_DIR/peer$n"
  mkdir -p "$dir"
  "$SHOAL_BIN" agent --name "peer$n" --data-dir "$dir/data" --bind 127.0.0.1 \
    --gossip-port "$(port "$n" 0)" --raft-port "$(port "$n" 1)" \
    --api-port "$(port "$n" 2)" --tunnel-port "$(port "$n" 3)" \
    --region local --zone "${ZONES[$(( (n - 1) % 3 ))]}" ${SHOAL_AGENT_FLAGS:-} "$@" \
    >"$dir/agent.log" 2>&1 &
  echo $! >"$dir/agent.pid"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "timed out waiting for $what; logs are in $DEMO_DIR/peer*/agent.log" >&2
      exit 1
    fi
    sleep 0.2
  done
}

# every shard has its full set of voting replicas (3 from 3 peers)
replicas_settled() {
  local out
  out=$("$SHOAL_BIN" get shards --config "$CONF") || return 1
  ! grep -q '~' <<<"$out" && ! awk -v want="$(( PEERS >= 3 ? 3 : 1 ))" 'NR > 1 && split($5, r, ",") != want' <<<"$out" | grep -q .
}

all_alive() {
  [ "$("$SHOAL_BIN" members --config "$CONF" -o json | grep -c '"status": "alive"')" -eq "$PEERS" ]
}

up() {
  down
  mkdir -p "$DEMO_DIR"
  say "starting peer1: it bootstraps a new cluster"
  start_peer 1
  CONF="$DEMO_DIR/peer1/data/admin.conf"
  wait_for 30 "peer1's admin.conf" test -s "$DEMO_DIR/peer1/data/join-token"
  wait_for 30 "peer1's API" "$SHOAL_BIN" members --config "$CONF"
  token=$(cat "$DEMO_DIR/peer1/data/join-token")
  for n in $(seq 2 "$PEERS"); do
    via=$(( n - 1 ))  # each peer joins through the previous one: any peer admits
    say "starting peer$n: it joins through peer$via's API (127.0.0.1:$(port $via 2))"
    start_peer "$n" --join "127.0.0.1:$(port $via 2)" --token "$token"
    wait_for 30 "peer$n's API" "$SHOAL_BIN" members --config "$CONF" --server "https://127.0.0.1:$(port "$n" 2)"
  done
  wait_for 30 "every peer alive" all_alive
  wait_for 60 "the replicated store" "$SHOAL_BIN" get ns --config "$CONF"
  wait_for 60 "raft replicas on every peer" replicas_settled
  say "shoal members (asked of peer1)"
  "$SHOAL_BIN" members --config "$CONF"
  say "shoal members -o wide (asked of peer$PEERS)"
  "$SHOAL_BIN" members --config "$CONF" --server "https://127.0.0.1:$(port "$PEERS" 2)" -o wide
  say "shoal apply -f examples/hello-config.yaml (through peer1)"
  "$SHOAL_BIN" apply --config "$CONF" -f "$(dirname "$0")/hello-config.yaml"
  say "shoal get cm hello -o yaml (through peer$PEERS)"
  "$SHOAL_BIN" get cm hello -o yaml --config "$CONF" --server "https://127.0.0.1:$(port "$PEERS" 2)"
  say "shoal get shards"
  "$SHOAL_BIN" get shards --config "$CONF"
  cat <<EOT

The cluster is running: $PEERS peers on 127.0.0.1, logs in $DEMO_DIR/peer*/agent.log.
What next:
  shoal members                 every peer, its status, zone and raft shards
  shoal get cm -A               ConfigMaps in every namespace (apply, get, delete work for ns and cm)
  shoal token create --ttl 1h   a token to join another peer with
  shoal leave --server URL      make a peer leave gracefully
  make demo-down                stop and remove the cluster
Use the CLI against it with:
export SHOAL_CONFIG=$CONF
EOT
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
