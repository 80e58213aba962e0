#!/usr/bin/env bash
# Benchmarks pulls through a registry mirror with hyperfine: an upstream docker-registry and
# a second one in proxy mode (pull-through) in front of it, a ~20 MB component, cold pulls
# (`--no-cache`) straight from the upstream and through the mirror (warmed once, so the
# mirror serves from its own storage), and `inspect --no-cache` planned once (mirror
# configuration in the working directory) and twice (the system's registries.conf outside
# it: a second planning round with /etc/containers readable).
# Prints a markdown table of medians and writes it to target/bench/mirrors.md.
#
# Usage: bench/mirrors.sh        (BENCH_RUNS=20 by default; uses target/release/wasmship)
# Needs: docker-registry, hyperfine, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${BENCH_RUNS:-20}
needs docker-registry hyperfine python3
work_dir mirrors

UPSTREAM=$(free_port)
start_registry upstream "$UPSTREAM"
MIRROR=$(free_port)
start_registry mirror "$MIRROR" "$UPSTREAM"

mkdir -p "$WORK/run"
python3 bench/make_component.py "$WORK/run/big.wasm" 20
cd "$WORK/run"
export HOME=$WORK/home XDG_CACHE_HOME=$WORK/cache
mkdir -p "$HOME"
REF=127.0.0.1:$UPSTREAM/bench/app:1.0.0
"$BIN" push "$REF" big.wasm >/dev/null
printf '[[registry]]\nprefix = "127.0.0.1:%s"\n[[registry.mirror]]\nlocation = "127.0.0.1:%s"\n' "$UPSTREAM" "$MIRROR" >mirrors.conf
: >empty.conf
# Warm the mirror: it fetches from the upstream once and serves from its storage after.
"$BIN" pull "$REF" --registries-conf mirrors.conf --no-cache -d warm.wasm >/dev/null

mkdir -p "$ROOT/target/bench"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$ROOT/target/bench/mirrors.md" --export-json "$ROOT/target/bench/mirrors.json" \
    -n "cold pull, upstream only" "$BIN pull $REF --registries-conf empty.conf --no-cache -d a.wasm" \
    -n "cold pull, through the mirror" "$BIN pull $REF --registries-conf mirrors.conf --no-cache -d b.wasm" \
    -n "inspect, planned once" "$BIN inspect $REF --registries-conf empty.conf --no-cache" \
    -n "inspect, planned twice" "$BIN inspect $REF --no-cache"
cat "$ROOT/target/bench/mirrors.md"
