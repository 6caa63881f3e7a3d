#!/usr/bin/env bash
# e2e-real-run.sh TEST_BINARY [go test flags]: hack/real-cluster.sh up, run the compiled
# test/e2e-real binary inside the cluster's netns with .e2e-real/env, then down — also when the
# test fails or is interrupted. Exit status: the test's, or down's if the test passed and down
# left something behind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${E2E_REAL_DIR:-$ROOT/.e2e-real}"
bin=$1; shift
flags=()
for f in "$@"; do if [[ $f == -* ]]; then flags+=("-test.${f#-}"); else flags+=("$f"); fi; done
down() { "$ROOT/hack/real-cluster.sh" down || return 1; }
# One real cluster on the machine at a time: `down` restores the sysctls the kubelets change, and
# two interleaved runs would restore each other's values. A second run waits here.
exec 9>"${TMPDIR:-/tmp}/realtime-e2e-real.lock"
if ! flock -n 9; then echo "e2e-real: waiting for another real-cluster run on this machine" >&2; flock 9; fi
t0=$SECONDS
if [[ -f $OUT/state ]]; then echo "e2e-real: a cluster is already up ($OUT/state); 'make real-cluster-down' first" >&2; exit 1; fi
trap 'down; exit 130' INT TERM
"$ROOT/hack/real-cluster.sh" up || { rc=$?; [[ -f $OUT/state ]] && down; exit $rc; }
t_up=$((SECONDS - t0))
rc=0
# Peak memory of the cluster while the test runs (sampled every 5 s).
( peak=0; while [[ -f $OUT/state ]]; do m=$("$ROOT/hack/real-cluster.sh" mem 2>/dev/null || echo 0)
  ((m > peak)) && peak=$m && echo "$peak" > "$OUT/peak-mem"; sleep 5; done ) &
sampler=$!
# shellcheck disable=SC1091
( source "$OUT/env"; cd "$ROOT/test/e2e-real" && exec nsenter --net="$E2E_NETNS" -- "$bin" "${flags[@]}" ) || rc=$?
t_test=$((SECONDS - t0 - t_up))
peak=$(cat "$OUT/peak-mem" 2>/dev/null || echo "?")
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
down || { ((rc == 0)) && rc=1; }
echo "e2e-real: up ${t_up}s, test ${t_test}s, down $((SECONDS - t0 - t_up - t_test))s, peak memory ${peak} MiB, exit $rc" >&2
exit $rc
