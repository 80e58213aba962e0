#!/usr/bin/env bash
# Benchmarks `app relocate` against copying the same artifacts one by one with skopeo: an
# application of 5 components (~20 MB each, different bytes) and 2 provider archives
# (~20 MB each) in one local docker-registry, copied to a second one. Before every run the
# target's repositories are removed (its blob store stays, as a registry's does; each
# repository still needs its blobs uploaded or linked).
# Prints a markdown table (time, the command's CPU time, and the CPU time both registries
# spent per run, from /proc) and writes its rows to target/bench/app.md.
#
# Usage: bench/app.sh        (BENCH_RUNS=10 by default; uses target/release/wasmship)
# Needs: docker-registry, hyperfine, skopeo, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${BENCH_RUNS:-10}
needs docker-registry hyperfine skopeo python3
work_dir app

source_and_target
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
# cpu_ms PID... : CPU time (user + system) the processes have used, in ms.
cpu_ms() {
    local total=0 pid
    for pid in "$@"; do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo $((total * 1000 / $(getconf CLK_TCK)))
}
# timed NAME COMMAND : hyperfine of one command, and the CPU time both registries spent per run.
: >"$ROOT/target/bench/app.md"
timed() {
    local before after
    before=$(cpu_ms "${PIDS[@]}")
    hyperfine -N --warmup 1 --runs "$RUNS" --prepare "$RESET" --style basic \
        --export-json "$WORK/timed.json" -n "$1" "$2" >/dev/null
    after=$(cpu_ms "${PIDS[@]}")
    python3 - "$WORK/timed.json" $(((after - before) / (RUNS + 1))) >>"$ROOT/target/bench/app.md" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"| {r['command']} | {r['mean']:.3f} ± {r['stddev']:.3f} s | {statistics.median(r['times']):.3f} s "
      f"| {r['user'] * 1000:.0f} + {r['system'] * 1000:.0f} ms | {sys.argv[2]} ms |")
PY
}
timed "wasmship app relocate (7 artifacts)" "$BIN app relocate wadm.yaml --to $DST -o relocated.yaml"
timed "wasmship app relocate --jobs 1 (one blob at a time)" "$BIN app relocate wadm.yaml --to $DST -o relocated.yaml --jobs 1"
timed "skopeo copy, one by one (7 artifacts)" "./skopeo-all.sh"
echo "| command | mean ± σ | median | CPU of the command (user + system) | CPU of both registries per run |"
echo "|---|---:|---:|---:|---:|"
cat "$ROOT/target/bench/app.md"
