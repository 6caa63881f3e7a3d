#!/usr/bin/env bash
# How cost grows with work (issue 15): deliveries per server CPU-second vs subscribers per channel,
# and server RSS per joined idle socket vs connections. Each point is a fresh node spawned by
# realtime-bench; the table goes to stdout as Markdown rows, the raw JSON next to it.
#
#   hack/bench-growth.sh [outdir]          (needs bin/realtime-node and bin/realtime-bench)
#   SUBS="10 100 1000" CONNS="1000 5000" RATE=100 hack/bench-growth.sh
set -euo pipefail
out=${1:-bench-growth}
mkdir -p "$out"
node=${NODE:-bin/realtime-node}
bench=${BENCH:-bin/realtime-bench}
subs=${SUBS:-10 100 1000 10000}
conns=${CONNS:-1000 5000 10000 15000}
msgs=${MSGS:-200000} # deliveries per fan-out point: rate = MSGS / subs / 8 s, at most 2,000 msg/s
flags=${FLAGS:---vsn 1.0.0 --publish rest --frames text}

metric() { # metric <json> <name>: first value of that metric
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]
for x in r:
  for m in x.get("metrics",[]):
    if m["name"]==sys.argv[2]: print(round(m["value"],3)); sys.exit()
print("-")' "$1" "$2"
}

echo "| subscribers | msg/s | load before | delivered/expected | deliveries per server CPU-s | frames per write | p99 ms |"
echo "|---|---|---|---|---|---|---|"
for n in $subs; do
  rate=$(( msgs / n / 8 )); rate=$(( rate > 2000 ? 2000 : rate )); rate=$(( rate < 1 ? 1 : rate ))
  load=$(cut -d' ' -f1 /proc/loadavg)
  # shellcheck disable=SC2086
  "$bench" --spawn "$node" --scenarios b --fanout-subs "$n" --fanout-rate "$rate" --fanout-duration 8s $flags \
    --out "$out/fanout-$n.json" > "$out/fanout-$n.txt" 2>&1 || true
  j="$out/fanout-$n.json"
  echo "| $n | $rate | $load | $(metric "$j" "delivered/expected") | $(metric "$j" "deliveries per server CPU-second") | $(metric "$j" "node frames per socket write") | $(metric "$j" "publish-to-receive p99") |"
done
echo
echo "| connections | load before | RSS per joined socket KiB | heap in use per socket KiB | stack per socket KiB |"
echo "|---|---|---|---|---|"
for c in $conns; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  "$bench" --spawn "$node" --scenarios a --idle "$c" --idle-settle 10s --out "$out/idle-$c.json" > "$out/idle-$c.txt" 2>&1 || true
  j="$out/idle-$c.json"
  echo "| $c | $load | $(metric "$j" "server RSS per joined socket") | $(metric "$j" "node heap in use per socket") | $(metric "$j" "node stacks per socket") |"
done
