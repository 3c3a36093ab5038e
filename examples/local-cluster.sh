#!/usr/bin/env bash
# A local 3-peer Shoal cluster on 127.0.0.1.
#   examples/local-cluster.sh up     start it (idempotent: stops a previous one first)
#   examples/local-cluster.sh down   stop it and remove everything it created
# Peer N listens on gossip 7946+100(N-1), raft +1, api +2, tunnel +3.
# SHOAL_AGENT_FLAGS adds flags to every agent (e.g. "--object-shards 2").
# As root with containerd installed, the peers run pods on a private
# containerd under $DEMO_DIR/ctd (SHOAL_DEMO_PODS=0 turns that off).
set -euo pipefail

DEMO_DIR=${DEMO_DIR:-$PWD/.demo}
SHOAL_BIN=${SHOAL_BIN:-$PWD/bin/shoal}
PEERS=${PEERS:-3}
ZONES=(zone-a zone-b zone-c)

port() { echo $((7946 + 100 * ($1 - 1) + $2)); }   # port PEER OFFSET
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

CTD_DIR=${DEMO_DIR}/ctd
CTD_SOCK=$CTD_DIR/c.sock
pods_wanted() { [ "${SHOAL_DEMO_PODS:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v containerd >/dev/null && [ -x /usr/lib/cni/bridge ]; }

start_containerd() {
  mkdir -p "$CTD_DIR"
  printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$CTD_DIR/config.toml"
  containerd --config "$CTD_DIR/config.toml" --root "$CTD_DIR/root" --state "$CTD_DIR/state" \
    --address "$CTD_SOCK" >"$CTD_DIR/containerd.log" 2>&1 &
  echo $! >"$CTD_DIR/containerd.pid"
  wait_for 30 "containerd" ctr --address "$CTD_SOCK" version
}

stop_containerd() {
  [ -S "$CTD_SOCK" ] || [ -f "$CTD_DIR/containerd.pid" ] || return 0
  for ns in $(ctr --address "$CTD_SOCK" namespaces ls -q 2>/dev/null); do
    for t in $(ctr --address "$CTD_SOCK" -n "$ns" tasks ls -q 2>/dev/null); do
      ctr --address "$CTD_SOCK" -n "$ns" tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true
      ctr --address "$CTD_SOCK" -n "$ns" tasks rm -f "$t" >/dev/null 2>&1 || true
    done
    for c in $(ctr --address "$CTD_SOCK" -n "$ns" containers ls -q 2>/dev/null); do
      ctr --address "$CTD_SOCK" -n "$ns" containers rm "$c" >/dev/null 2>&1 || true
    done
  done
  if [ -f "$CTD_DIR/containerd.pid" ]; then kill "$(cat "$CTD_DIR/containerd.pid")" 2>/dev/null || true; fi
  pkill -9 -f "containerd-shim-runc-v2 .*-address $CTD_SOCK" 2>/dev/null || true
  for ns in /var/run/netns/shoal-shoal-demo-*; do
    if [ -e "$ns" ]; then ip netns delete "$(basename "$ns")" 2>/dev/null || true; fi
  done
  for n in $(seq 1 "$PEERS"); do ip link del "shoal-demo$n" 2>/dev/null || true; done
  { grep -o " $CTD_DIR[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

down() {
  stop_agents
  stop_containerd
  rm -rf "$DEMO_DIR"
}

stop_agents() {
  if [ -d "$DEMO_DIR" ]; then
    for pidf in "$DEMO_DIR"/peer*/agent.pid; do
      [ -f "$pidf" ] || continue
      pid=$(cat "$pidf")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    done
  fi
}

start_peer() { # start_peer N [join-args...]
  local n=$1; shift
  local dir="$DEMO_DIR/peer$n"
  mkdir -p "$dir"
  "$SHOAL_BIN" agent --name "peer$n" --data-dir "$dir/data" --bind 127.0.0.1 \
    --gossip-port "$(port "$n" 0)" --raft-port "$(port "$n" 1)" \
    --api-port "$(port "$n" 2)" --tunnel-port "$(port "$n" 3)" --service-route=false \
    --region local --zone "${ZONES[$(( (n - 1) % 3 ))]}" $(runtime_flags "$n") ${SHOAL_AGENT_FLAGS:-} "$@" \
    >"$dir/agent.log" 2>&1 &
  echo $! >"$dir/agent.pid"
}

runtime_flags() { # runtime_flags N
  if pods_wanted; then
    echo "--runtime containerd --containerd-address $CTD_SOCK --containerd-namespace shoal-demo-peer$1 --bridge shoal-demo$1"
  else
    echo "--runtime none"
  fi
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

IMAGE=${IMAGE:-$PWD/bin/webapp.tar}

all_ready() {
  [ "$("$SHOAL_BIN" get pods -l app=hello --config "$CONF" | grep -c ' 1/1 .*Running')" -eq "$PEERS" ]
}

show_pods() {
  say "shoal image import bin/webapp.tar (into peer1 only)"
  "$SHOAL_BIN" image import "$IMAGE" --config "$CONF" --server "https://127.0.0.1:$(port 1 2)"
  say "shoal apply -f examples/hello-deploy.yaml: a Deployment of 3 replicas"
  "$SHOAL_BIN" apply --config "$CONF" -f "$(dirname "$0")/hello-deploy.yaml"
  wait_for 120 "the replicas to run (peer2 and peer3 fetch the image from peer1)" all_ready
  say "shoal get deploy,rs and pods -o wide: one replica per peer"
  "$SHOAL_BIN" get deploy --config "$CONF"
  "$SHOAL_BIN" get rs --config "$CONF"
  "$SHOAL_BIN" get pods -o wide --config "$CONF"
  say "each pod answers at its address"
  for ip in $("$SHOAL_BIN" get pods -l app=hello -o json --config "$CONF" | grep '"podIP"' | cut -d'"' -f4); do
    printf "%s -> " "$ip"; curl -s --max-time 5 "http://$ip:8080/"
  done
  victim=$("$SHOAL_BIN" get pods -l app=hello -o name --config "$CONF" | sed -n 1p)
  say "shoal delete $victim: the ReplicaSet replaces it"
  "$SHOAL_BIN" delete "${victim%%/*}" "${victim#*/}" --config "$CONF"
  wait_for 60 "a replacement" all_ready
  "$SHOAL_BIN" get pods -o wide --config "$CONF"
  say "shoal image ls"
  "$SHOAL_BIN" image ls --config "$CONF"
  first=$("$SHOAL_BIN" get pods -l app=hello -o name --config "$CONF" | sed -n 1p)
  say "shoal logs ${first#*/} (through peer3)"
  "$SHOAL_BIN" logs "${first#*/}" --tail 3 --config "$CONF" --server "https://127.0.0.1:$(port 3 2)"
}

up() {
  down
  mkdir -p "$DEMO_DIR"
  if pods_wanted; then
    say "starting a private containerd for the peers' pods ($CTD_DIR)"
    start_containerd
  fi
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
  if pods_wanted && [ -f "$IMAGE" ]; then
    show_pods
  fi
  cat <<EOT

The cluster is running: $PEERS peers on 127.0.0.1, logs in $DEMO_DIR/peer*/agent.log.
What next:
  shoal members                 every peer, its status, zone and raft shards
  shoal get cm -A               ConfigMaps in every namespace (apply, get, delete work for ns and cm)
  shoal get pods -o wide        the pods (when the demo runs them), their IPs and peers
  shoal scale deploy/hello --replicas 5   more replicas, placed by the shard leaders
  shoal describe deploy hello   a Deployment (and describe pod NAME: containers, conditions, events)
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
