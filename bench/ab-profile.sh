#!/usr/bin/env bash
# Interleaved A/B of one bench:profile case under perf: the build of REV, this tree's build and the
# raw node:http baseline, ROUNDS times in turn (default 3), so a noisy machine hits all three alike.
#   bash bench/ab-profile.sh 26384fe            (CASE=json-hit by default, or sse-hit; ROUNDS=N)
# Prints one line per run: CPU µs per request of every thread of the server, kernel included.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=$1
case=${CASE:-json-hit}
rounds=${ROUNDS:-3}
npm run build --silent
dir=$(mktemp -d)/sluice-$rev
git worktree add -q --detach "$dir" "$rev"
trap 'git worktree remove --force "$dir"' EXIT
if cmp -s "$dir/package-lock.json" package-lock.json; then ln -s "$(pwd)/node_modules" "$dir/node_modules"; else (cd "$dir" && npm ci --silent); fi
(cd "$dir" && npx tsc -p tsconfig.build.json)
for round in $(seq 1 "$rounds"); do
  for who in "$rev" this raw; do
    name=$case dist=
    if [ "$who" = raw ]; then name=raw-${case%-hit}; elif [ "$who" = "$rev" ]; then dist=$dir/dist; fi
    line=$(BENCH_SLUICE_DIST=$dist BENCH_PERF=1 BENCH_SECONDS=${BENCH_SECONDS:-8} BENCH_WARMUP=${BENCH_WARMUP:-8} npx tsx bench/profile.bench.ts "$name" 2>&1 | grep '^== ' | sed 's#; /.*##')
    echo "round $round, $who, load $(cut -d' ' -f1 /proc/loadavg): $line"
  done
done
