#!/usr/bin/env bash
# A 1 GB component through push, pull (through the cache, and --no-cache) and a copy between
# two loopback docker-registries: wall time and peak resident memory of each command
# (GNU time's maximum RSS of the runner process, whose memory holds the guest's), beside
# `curl` fetching the layer to /dev/null plus `sha256sum` of the file (the floor for moving
# and checking the same bytes).
#
# Usage: bench/large.sh      (BENCH_SIZE_MB=1000 by default)
# Needs: docker-registry, python3, curl, /usr/bin/time; about 5 times the size on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZE_MB=${BENCH_SIZE_MB:-1000}

needs docker-registry python3 curl /usr/bin/time
work_dir large

source_and_target
python3 "$ROOT/bench/make_component.py" big.wasm "$SIZE_MB"
REF=$SRC/bench/large:1.0.0

# measure NAME COMMAND... : one run, its wall time and peak RSS as a table row.
measure() {
    local name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null
    read -r seconds kilobytes <"$WORK/time.txt"
    printf '| %s | %.2f s | %d MB |\n' "$name" "$seconds" $((kilobytes / 1024))
}

# The first run after a build compiles the component (seconds, ~170 MB): not part of any row.
"$BIN" --help >/dev/null

echo "| operation ($SIZE_MB MB) | wall | peak RSS |"
echo "|---|---:|---:|"
measure "push" "$BIN" push "$REF" big.wasm
measure "pull through the cache (cold)" "$BIN" pull "$REF" --destination out.wasm
cmp big.wasm out.wasm
rm -f out.wasm
measure "pull --no-cache" "$BIN" pull "$REF" --no-cache --destination out.wasm
cmp big.wasm out.wasm
measure "copy registry → registry" "$BIN" copy "$REF" "$DST/bench/large:1.0.0"
LAYER="sha256:$(sha256sum big.wasm | cut -d' ' -f1)"
measure "curl of the layer to /dev/null" curl -fsS -o /dev/null "http://$SRC/v2/bench/large/blobs/$LAYER"
measure "sha256sum of the file" sha256sum big.wasm
