#!/usr/bin/env bash
# Before/after figures in one session: runs this tree's bench (harness, mock, baselines and load
# generator unchanged) against the build of each git revision given, then against this tree.
#   bash bench/before-after.sh 04c11f7 91c4d60     (BENCHES="gateway cache" by default; BENCHES="" only builds)
# Each revision is checked out in a temporary worktree and built; it shares this tree's
# node_modules when its package-lock.json is the same, else gets its own `npm ci`.
# Output: one file per bench and build under $OUT (default .tmp/before-after), and a log line each.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-$root/.tmp/before-after}
benches=${BENCHES-gateway cache}
mkdir -p "$out"
npm run build --silent
declare -a builds=() worktrees=()
cleanup() { for dir in "${worktrees[@]}"; do git worktree remove --force "$dir" || true; done; }
trap cleanup EXIT
for rev in "$@"; do
  dir=$(mktemp -d)/sluice-$rev
  git worktree add -q --detach "$dir" "$rev"
  worktrees+=("$dir")
  if cmp -s "$dir/package-lock.json" package-lock.json; then ln -s "$root/node_modules" "$dir/node_modules"; else (cd "$dir" && npm ci --silent); fi
  (cd "$dir" && npx tsc -p tsconfig.build.json)
  builds+=("$rev=$dir/dist")
done
builds+=("this=$root/dist")
for bench in $benches; do
  for build in "${builds[@]}"; do
    name=${build%%=*}
    echo "== bench:$bench, build $name, $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/log"
    BENCH_SLUICE_DIST=${build#*=} npx tsx "bench/$bench.bench.ts" > "$out/$bench-$name.txt" 2>&1
    grep -E '^  .*goal' "$out/$bench-$name.txt" | tee -a "$out/log" || true
  done
done
