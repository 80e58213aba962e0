#!/usr/bin/env bash
# Benchmarks signing against a local docker-registry with hyperfine: `verify` of a signed
# ~20 MB component (manifest HEAD, referrers and the .sig manifest, one payload blob; no
# layer) beside `inspect --no-cache` of the same reference (manifest and config), and
# `key generate` (scrypt N=32768, r=8, p=1 inside the component). Also start-up (`--help`)
# and a warm pull, for the cost of the runner's checks of the cache directory.
# Prints a markdown table of medians and writes it to target/bench/signing.md.
#
# Usage: bench/signing.sh        (BENCH_RUNS=20 by default; uses target/release/wasmship)
# Needs: docker-registry, hyperfine, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${BENCH_RUNS:-20}
needs docker-registry hyperfine python3
work_dir signing
PORT=$(free_port)
start_registry registry "$PORT"

mkdir -p "$WORK/run"
python3 bench/make_component.py "$WORK/run/big.wasm" 20
# Not $WORK itself: it holds HOME, which the runner never grants.
cd "$WORK/run"
export HOME=$WORK/home XDG_CACHE_HOME=$WORK/cache COSIGN_PASSWORD=bench
mkdir -p "$HOME"
REF=127.0.0.1:$PORT/bench/app:1.0.0
"$BIN" push "$REF" big.wasm >/dev/null
"$BIN" key generate >/dev/null
"$BIN" sign "$REF" --key cosign.key >/dev/null
"$BIN" pull "$REF" -d warm.wasm >/dev/null

mkdir -p "$ROOT/target/bench"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$ROOT/target/bench/signing.md" --export-json "$ROOT/target/bench/signing.json" \
    -n "inspect --no-cache" "$BIN inspect $REF --no-cache" \
    -n "verify" "$BIN verify $REF --key cosign.pub" \
    -n "key generate" "$BIN key generate --output-key-prefix k --force" \
    -n "start-up (help)" "$BIN --help" \
    -n "warm pull (20 MB)" "$BIN pull $REF -d warm.wasm"
cat "$ROOT/target/bench/signing.md"
