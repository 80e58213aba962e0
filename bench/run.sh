#!/usr/bin/env bash
# Benchmarks the release `wasmship` binary against a local docker-registry with hyperfine:
# push (fresh upload, all blobs present, chunked) and pull of a ~20 MB component, the same
# through an OCI layout directory, start-up (warm and cold), and curl fetching the same blob
# as a floor for the transfer. Prints a markdown table of medians and writes it to
# target/bench/results.md.
#
# Usage: bench/run.sh            (BENCH_SIZE_MB=20 BENCH_RUNS=10 by default)
# Needs: docker-registry, hyperfine, curl, python3, and the wasm32-wasip2 target.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE_MB=${BENCH_SIZE_MB:-20}
RUNS=${BENCH_RUNS:-10}

for tool in docker-registry hyperfine curl python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

echo "==> building the release binary"
cargo build --release -p wasmship-runner
BIN="$ROOT/target/release/wasmship"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmship-bench.XXXXXX")
REGISTRY_PID=
cleanup() {
    if [[ -n $REGISTRY_PID ]]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "==> making a ${SIZE_MB} MB component"
python3 bench/make_component.py "$WORK/big.wasm" "$SIZE_MB"
LAYER_DIGEST="sha256:$(sha256sum "$WORK/big.wasm" | cut -d' ' -f1)"
LAYER_BYTES=$(stat -c %s "$WORK/big.wasm")

echo "==> starting docker-registry"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
STORE="$WORK/registry"
mkdir -p "$STORE"
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STORE
  delete:
    enabled: true
  redirect:
    disable: true
http:
  addr: 127.0.0.1:$PORT
  secret: wasmship-bench-not-a-secret
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null

# The binary runs as a user would run it, with a private HOME and compile cache; the fixed
# SOURCE_DATE_EPOCH keeps the config (and so the manifest) identical from run to run.
mkdir -p "$WORK/home" "$WORK/precompiled" "$WORK/results"
export HOME="$WORK/home" WASMSHIP_PRECOMPILED_DIR="$WORK/precompiled" SOURCE_DATE_EPOCH=1700000000
cd "$WORK"
REF="127.0.0.1:$PORT/bench/big:1.0.0"
REPO_DIR="$STORE/docker/registry/v2/repositories/bench"

# bench NAME PREPARE COMMAND: one hyperfine run (no shell in between), exported as
# results/NAME.json. A failing command is recorded and the other benchmarks still run.
FAILED=()
bench() {
    local name=$1 prepare=$2 command=$3
    echo "==> $name"
    if ! hyperfine -N --style basic --warmup 1 --runs "$RUNS" --prepare "$prepare" \
        --command-name "$name" --export-json "results/$name.json" "$command"; then
        rm -f "results/$name.json"
        FAILED+=("$name")
    fi
}

# same FILE: the round trip gave back the pushed bytes.
same() {
    cmp -s big.wasm "$1" || { echo "bench: $1 differs from big.wasm" >&2; FAILED+=("cmp $1"); }
}

# Compiles (or loads) the component once, so no timed run pays for the first compilation.
"$BIN" --help >/dev/null

bench start-up-help "true" "$BIN --help"
# The first run on a machine compiles the component and stores the precompiled copy.
bench start-up-cold "rm -rf $WORK/cold" "env WASMSHIP_PRECOMPILED_DIR=$WORK/cold $BIN --help"
bench start-up-self-version "true" "$BIN self version"
# Deleting the repository's links makes the registry forget it has the blobs: a full upload.
bench push-fresh "rm -rf $REPO_DIR" "$BIN push $REF big.wasm"
bench push-fresh-chunked "rm -rf $REPO_DIR" "$BIN push $REF big.wasm --chunked"
bench push-blobs-present "true" "$BIN push $REF big.wasm"
bench pull "rm -f out.wasm" "$BIN pull $REF --destination out.wasm"
same out.wasm
bench push-oci-layout "rm -rf layout" "$BIN push oci-layout://layout:1.0.0 big.wasm"
bench pull-oci-layout "rm -f out-layout.wasm" "$BIN pull oci-layout://layout:1.0.0 --destination out-layout.wasm"
same out-layout.wasm
bench curl-blob-floor "true" "curl -fsS -o /dev/null http://127.0.0.1:$PORT/v2/bench/big/blobs/$LAYER_DIGEST"

mkdir -p "$ROOT/target/bench"
python3 - "$WORK/results" "$LAYER_BYTES" "$RUNS" >"$ROOT/target/bench/results.md" <<'PY'
import json, os, platform, statistics, sys

results, layer_bytes, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
order = [
    "start-up-help", "start-up-cold", "start-up-self-version", "push-fresh", "push-fresh-chunked",
    "push-blobs-present", "pull", "push-oci-layout", "pull-oci-layout", "curl-blob-floor",
]
print(f"Component: {layer_bytes} bytes; {runs} runs each after 1 warm-up; "
      f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}.\n")
print("| operation | median | mean ± σ | min | max |")
print("|---|---:|---:|---:|---:|")
ms = lambda s: f"{s * 1000:.1f} ms"
for name in order:
    path = os.path.join(results, f"{name}.json")
    if not os.path.exists(path):
        print(f"| {name} | failed | | | |")
        continue
    with open(path) as f:
        r = json.load(f)["results"][0]
    times = r["times"]
    print(f"| {name} | {ms(statistics.median(times))} | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} "
          f"| {ms(min(times))} | {ms(max(times))} |")
PY
echo
cat "$ROOT/target/bench/results.md"

if ((${#FAILED[@]})); then
    echo "bench: failed: ${FAILED[*]}" >&2
    exit 1
fi
