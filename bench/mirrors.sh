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
ROOT=$(pwd)
RUNS=${BENCH_RUNS:-20}
BIN="$ROOT/target/release/wasmship"
for tool in docker-registry hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
[[ -x $BIN ]] || { echo "bench: build first (cargo test --release --workspace --no-run)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmship-bench-mirrors.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() { # name port [upstream-port]
    local proxy=""
    [[ -n ${3:-} ]] && proxy=$'proxy:\n  remoteurl: http://127.0.0.1:'"$3"
    cat >"$WORK/$1.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/$1
http:
  addr: 127.0.0.1:$2
log:
  level: error
$proxy
YAML
    docker-registry serve "$WORK/$1.yml" >"$WORK/$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do curl -fs "http://127.0.0.1:$2/v2/" >/dev/null && break; sleep 0.1; done
}
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
