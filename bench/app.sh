#!/usr/bin/env bash
# Benchmarks `app relocate` against copying the same artifacts one by one with skopeo: an
# application of 5 components (~20 MB each, different bytes) and 2 provider archives
# (~20 MB each) in one local docker-registry, copied to a second one. Before every run the
# target's repositories are removed (its blob store stays, as a registry's does; each
# repository still needs its blobs uploaded or linked).
# Prints a markdown table of medians and writes it to target/bench/app.md.
#
# Usage: bench/app.sh        (BENCH_RUNS=10 by default; uses target/release/wasmship)
# Needs: docker-registry, hyperfine, skopeo, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${BENCH_RUNS:-10}
needs docker-registry hyperfine skopeo python3
work_dir app

SRC_PORT=$(free_port); start_registry source "$SRC_PORT"
DST_PORT=$(free_port); start_registry target "$DST_PORT"
SRC=127.0.0.1:$SRC_PORT DST=127.0.0.1:$DST_PORT

mkdir -p "$WORK/run" "$WORK/home"
cd "$WORK/run"
export HOME=$WORK/home
REFS=()
for i in 1 2 3 4 5; do
    python3 "$ROOT/bench/make_component.py" base.wasm 20
    # A custom section of its own, so every component has other bytes.
    python3 -c "import sys; sys.stdout.buffer.write(open('base.wasm','rb').read() + b'\x00\x06\x05comp$i')" >"c$i.wasm"
    "$BIN" push "$SRC/app/component-$i:1.0.0" "c$i.wasm" >/dev/null
    REFS+=("app/component-$i:1.0.0")
done
for i in 1 2; do
    head -c 20000000 /dev/urandom >"provider-$i"
    "$BIN" par create --name "Provider $i" --vendor bench --binary "provider-$i" --arch x86_64-linux \
        --version 1.0.0 --directory keys --destination "provider-$i.par.gz" --compress >/dev/null
    "$BIN" push "$SRC/providers/provider-$i:1.0.0" "provider-$i.par.gz" >/dev/null
    REFS+=("providers/provider-$i:1.0.0")
done
{
    printf 'apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: bench\nspec:\n  components:\n'
    for ref in "${REFS[@]}"; do
        type=component; [[ $ref == providers/* ]] && type=capability
        name=${ref%%:*}
        printf '    - name: %s\n      type: %s\n      properties:\n        image: %s/%s\n' "${name##*/}" "$type" "$SRC" "$ref"
    done
} >wadm.yaml
printf '%s\n' "${REFS[@]}" >refs.txt
cat >skopeo-all.sh <<SH
#!/usr/bin/env bash
set -e
while read -r ref; do
    skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$SRC/\$ref" "docker://$DST/\$ref"
done < refs.txt
SH
chmod +x skopeo-all.sh
RESET="rm -rf $WORK/target/docker/registry/v2/repositories"

mkdir -p "$ROOT/target/bench"
hyperfine -N --warmup 1 --runs "$RUNS" --prepare "$RESET" \
    --export-markdown "$ROOT/target/bench/app.md" --export-json "$ROOT/target/bench/app.json" \
    -n "wasmship app relocate (7 artifacts)" "$BIN app relocate wadm.yaml --to $DST -o relocated.yaml" \
    -n "skopeo copy, one by one (7 artifacts)" "./skopeo-all.sh"
cat "$ROOT/target/bench/app.md"
