# Sourced by the benchmark scripts that run against agent processes: builds
# shoal and shoal-bench, starts 3 agents on 127.0.0.2-4 (no container
# runtime; profiler on :6060 of each) with $shards object shards, waits
# until every shard has a leader and 3 voters, and stops them on exit.
# Sets dir (their data, under /tmp), pids (p1's first) and SHOAL_CONFIG.
# Set bench (a name for the data directory) and shards before sourcing.
# Traffic stays on loopback.
make -s build build-bench
dir=$(mktemp -d "/tmp/shoal-bench-${bench:-agents}.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
start() { # n
	local n=$1 ip=127.0.0.$(($1 + 1))
	local args=(agent --name "p$n" --data-dir "$dir/p$n" --bind "$ip" --runtime none
		--object-shards "$shards" --service-route=false --log-level warn --debug-addr "$ip:6060")
	if [ "$n" -gt 1 ]; then args+=(--join 127.0.0.2:7948 --token "$(cat "$dir/p1/join-token")"); fi
	bin/shoal "${args[@]}" >"$dir/p$n.log" 2>&1 &
	pids+=($!)
}
start 1
for _ in $(seq 100); do [ -f "$dir/p1/join-token" ] && break; sleep 0.1; done
start 2
start 3
export SHOAL_CONFIG=$dir/p1/admin.conf
settled=no
for _ in $(seq 120); do
	settled=$(bin/shoal get shards -o json 2>/dev/null | python3 -c '
import json, sys
shards = json.load(sys.stdin)
ok = shards and all(s.get("leader") and len([r for r in s["replicas"] if not r.get("nonVoting")]) == 3 for s in shards)
print("yes" if ok else "no")' 2>/dev/null || echo no)
	[ "$settled" = yes ] && break
	sleep 0.5
done
[ "$settled" = yes ] || { echo "the shards did not settle on 3 voters; logs in $dir" >&2; trap - EXIT; exit 1; }
echo "3 agents, $shards object shards, 3 voters each"
