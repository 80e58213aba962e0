#!/usr/bin/env bash
# Informational: the packager component under Node.js (examples/node/wasmship.mjs: jco and
# the WASI 0.2 shim) next to the native runner, pushing and pulling one ~20 MB component
# against a loopback docker-registry (pulls with --no-cache, so each run transfers the layer).
#
# Usage: bench/node.sh            (BENCH_SIZE_MB=20 BENCH_RUNS=10 by default)
# Needs: docker-registry, hyperfine, python3, node 20 with `npm ci --prefix examples/node`;
# the release binary built (its build leaves the component the launcher runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZE_MB=${BENCH_SIZE_MB:-20}
RUNS=${BENCH_RUNS:-10}

needs docker-registry hyperfine python3 node
work_dir node

source_and_target
python3 "$ROOT/bench/make_component.py" big.wasm "$SIZE_MB"
NODE="node $ROOT/examples/node/wasmship.mjs"
export WASMSHIP_COMPONENT=$ROOT/target/guest/wasm32-wasip2/guest/wasmship.wasm
# Transpiled and compiled once before timing, as the runner's precompiled copy is.
$NODE --help >/dev/null
"$BIN" --help >/dev/null
"$BIN" push "$SRC/bench/big:1.0.0" big.wasm >/dev/null

mkdir -p "$ROOT/target/bench"
hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$ROOT/target/bench/node.md" \
    -n "runner: push" "$BIN push $DST/bench/runner:1.0.0 big.wasm" \
    -n "node: push" "$NODE push $DST/bench/node:1.0.0 big.wasm" \
    -n "runner: pull --no-cache" "$BIN pull $SRC/bench/big:1.0.0 --no-cache -d out-runner.wasm" \
    -n "node: pull --no-cache" "$NODE pull $SRC/bench/big:1.0.0 --no-cache -d out-node.wasm"
cmp big.wasm out-runner.wasm
cmp big.wasm out-node.wasm
cat "$ROOT/target/bench/node.md"
