#!/usr/bin/env bash
# Benchmarks `wasmship copy` of one ~20 MB component between two loopback docker-registries
# against `skopeo copy` of the same reference (issue 14's copy target), and a copy from the
# registry into an OCI layout directory. Before every run the target's repositories are
# removed (its blob store kept, as a registry's would be), so every run uploads the layer; then
# both again onto a target that has every blob.
#
# Usage: bench/copy.sh            (BENCH_SIZE_MB=20 BENCH_RUNS=15 by default)
# Needs: docker-registry, hyperfine, skopeo, python3; the release binary built.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZE_MB=${BENCH_SIZE_MB:-20}
RUNS=${BENCH_RUNS:-15}

needs docker-registry hyperfine skopeo python3
work_dir copy

source_and_target
python3 "$ROOT/bench/make_component.py" big.wasm "$SIZE_MB"
"$BIN" push "$SRC/bench/big:1.0.0" big.wasm >/dev/null
RESET="rm -rf $WORK/target/docker/registry/v2/repositories layout"

mkdir -p "$ROOT/target/bench"
hyperfine -N --warmup 2 --runs "$RUNS" --prepare "$RESET" \
    --export-markdown "$ROOT/target/bench/copy.md" --export-json "$ROOT/target/bench/copy.json" \
    -n "wasmship copy registry → registry" "$BIN copy $SRC/bench/big:1.0.0 $DST/bench/big:1.0.0" \
    -n "skopeo copy registry → registry" \
    "skopeo copy -q --src-tls-verify=false --dest-tls-verify=false docker://$SRC/bench/big:1.0.0 docker://$DST/bench/big:1.0.0" \
    -n "wasmship copy registry → oci-layout" "$BIN copy $SRC/bench/big:1.0.0 oci-layout://layout:1.0.0"
# A copy onto a target that has everything already (a repeated relocation): both tools check
# the blobs and write the manifest.
"$BIN" copy "$SRC/bench/big:1.0.0" "$DST/bench/big:1.0.0" >/dev/null
hyperfine -N --warmup 2 --runs "$RUNS" \
    --export-markdown "$ROOT/target/bench/copy-present.md" \
    -n "wasmship copy, target has the blobs" "$BIN copy $SRC/bench/big:1.0.0 $DST/bench/big:1.0.0" \
    -n "skopeo copy, target has the blobs" \
    "skopeo copy -q --src-tls-verify=false --dest-tls-verify=false docker://$SRC/bench/big:1.0.0 docker://$DST/bench/big:1.0.0"
# Every copy must have arrived whole: the target's manifest digest is the source's.
want=$(curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$SRC/v2/bench/big/manifests/1.0.0" | tr -d '\r' | awk 'tolower($1)=="docker-content-digest:"{print $2}')
got=$(curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$DST/v2/bench/big/manifests/1.0.0" | tr -d '\r' | awk 'tolower($1)=="docker-content-digest:"{print $2}')
[[ -n $want && $want == "$got" ]] || { echo "bench: the copied manifest differs ($want vs $got)" >&2; exit 1; }
cat "$ROOT/target/bench/copy.md" "$ROOT/target/bench/copy-present.md"
