#!/usr/bin/env bash
# Benchmarks the release `wasmship` binary against a local docker-registry with hyperfine:
# push (fresh upload, all blobs present, chunked) and pull of a ~20 MB component, the same
# through an OCI layout directory, a fresh push to a second registry behind htpasswd Basic
# auth (with its access log checked: one PUT of the layer per push), start-up (warm and cold),
# and curl fetching the same blob as a floor for the transfer. Prints a markdown table of
# medians and writes it to target/bench/results.md.
#
# Usage: bench/run.sh            (BENCH_SIZE_MB=20 BENCH_RUNS=10 by default)
# Needs: docker-registry, hyperfine, curl, python3, htpasswd (apache2-utils), and the
# wasm32-wasip2 target.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE_MB=${BENCH_SIZE_MB:-20}
RUNS=${BENCH_RUNS:-10}

for tool in docker-registry hyperfine curl python3 htpasswd; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

# BENCH_BIN=PATH times another build (e.g. a copy of an earlier one) instead of building.
if [[ -n ${BENCH_BIN:-} ]]; then
    BIN=$BENCH_BIN
else
    echo "==> building the release binary"
    cargo build --release -p wasmship-runner
    BIN="$ROOT/target/release/wasmship"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmship-bench.XXXXXX")
REGISTRY_PID=
AUTH_REGISTRY_PID=
cleanup() {
    for pid in $REGISTRY_PID $AUTH_REGISTRY_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
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

# A second registry behind Basic auth (bcrypt htpasswd, the only kind docker-registry takes),
# with its access log on, so the authenticated push can be counted request by request.
echo "==> starting docker-registry with htpasswd auth"
AUTH_USER=bench
AUTH_PASSWORD=bench-not-a-secret
AUTH_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AUTH_STORE="$WORK/registry-auth"
mkdir -p "$AUTH_STORE"
htpasswd -Bbn "$AUTH_USER" "$AUTH_PASSWORD" >"$WORK/htpasswd"
cat >"$WORK/registry-auth.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $AUTH_STORE
  delete:
    enabled: true
  redirect:
    disable: true
http:
  addr: 127.0.0.1:$AUTH_PORT
  secret: wasmship-bench-not-a-secret
auth:
  htpasswd:
    realm: wasmship-bench
    path: $WORK/htpasswd
YAML
docker-registry serve "$WORK/registry-auth.yml" >"$WORK/registry-auth.log" 2>&1 &
AUTH_REGISTRY_PID=$!
for _ in $(seq 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AUTH_PORT/v2/") == 401 ]] && break
    sleep 0.1
done
curl -fsS -u "$AUTH_USER:$AUTH_PASSWORD" "http://127.0.0.1:$AUTH_PORT/v2/" >/dev/null

# The binary runs as a user would run it, with a private HOME and compile cache; the fixed
# SOURCE_DATE_EPOCH keeps the config (and so the manifest) identical from run to run.
# It works in a directory beside that HOME: the sandbox never grants a directory that holds
# the home directory.
mkdir -p "$WORK/home" "$WORK/precompiled" "$WORK/run/results"
mkdir -p "$WORK/tmp"
export HOME="$WORK/home" WASMSHIP_PRECOMPILED_DIR="$WORK/precompiled" SOURCE_DATE_EPOCH=1700000000 TMPDIR="$WORK/tmp"
CACHE_DIR="$WORK/home/.cache/wasmship/oci"
mv "$WORK/big.wasm" "$WORK/run/big.wasm"
cd "$WORK/run"
REF="127.0.0.1:$PORT/bench/big:1.0.0"
REPO_DIR="$STORE/docker/registry/v2/repositories/bench"
AUTH_REF="127.0.0.1:$AUTH_PORT/bench/auth:1.0.0"
AUTH_REPO_DIR="$AUTH_STORE/docker/registry/v2/repositories/bench"

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
AUTH_LOG_MARK=$(wc -l <"$WORK/registry-auth.log")
bench push-fresh-auth "rm -rf $AUTH_REPO_DIR" "$BIN push $AUTH_REF big.wasm -u $AUTH_USER -p $AUTH_PASSWORD"
bench pull-cold "rm -rf out.wasm $CACHE_DIR" "$BIN pull $REF --destination out.wasm"
same out.wasm
# Warm: the cache holds the unchanged tag; one HEAD revalidates it, no blob moves, and the
# sealed layer is hard-linked to the destination.
bench pull-warm "rm -f out.wasm" "$BIN pull $REF --destination out.wasm"
same out.wasm
# The same with a copy of its own (as when another pulled file shares the cached layer).
bench pull-warm-copy "rm -f out-copy.wasm" "$BIN pull $REF --destination out-copy.wasm --link-mode copy"
same out-copy.wasm
bench pull-no-cache "rm -f out.wasm" "$BIN pull $REF --destination out.wasm --no-cache"
same out.wasm
bench push-oci-layout "rm -rf layout" "$BIN push oci-layout://layout:1.0.0 big.wasm"
bench pull-oci-layout "rm -f out-layout.wasm" "$BIN pull oci-layout://layout:1.0.0 --destination out-layout.wasm"
same out-layout.wasm
bench curl-blob-floor "true" "curl -fsS -o /dev/null http://127.0.0.1:$PORT/v2/bench/big/blobs/$LAYER_DIGEST"

# Peers side by side, when a wkg binary is given (WKG=/path/to/wkg) or on PATH. wkg has no
# cache: every pull transfers the layer.
WKG=${WKG:-$(command -v wkg || true)}
if [[ -n $WKG && -x $WKG ]]; then
    echo "==> peer: $("$WKG" --version 2>/dev/null || echo wkg)"
    bench wkg-push-fresh "rm -rf $REPO_DIR" "$WKG oci push --insecure 127.0.0.1:$PORT $REF big.wasm"
    # Restore wasmship's own manifest under the tag for the pulls below.
    "$BIN" push "$REF" big.wasm >/dev/null
    bench wkg-pull "rm -f out-wkg.wasm" "$WKG oci pull --insecure 127.0.0.1:$PORT $REF -o out-wkg.wasm"
    same out-wkg.wasm
else
    echo "==> peer: no wkg binary (set WKG=/path/to/wkg); peer rows skipped"
fi

# From the access log of the authenticated pushes (warm-up included): every push must send
# the layer body exactly once (one PUT of the layer blob, no PATCH), after its 401 challenges.
tail -n +"$((AUTH_LOG_MARK + 1))" "$WORK/registry-auth.log" >"$WORK/auth-access.log"
count() { grep -cE "$1" "$WORK/auth-access.log" || true; }
AUTH_PUSHES=$(count '"PUT /v2/bench/auth/manifests/1\.0\.0 HTTP/[0-9.]+" 201 ')
AUTH_LAYER_PUTS=$(count "\"PUT /v2/bench/auth/blobs/uploads/[^ ]*${LAYER_DIGEST#sha256:}[^ ]* HTTP/[0-9.]+\" 201 ")
AUTH_PATCHES=$(count '"PATCH /v2/bench/auth/blobs/uploads/')
AUTH_401=$(count '" 401 ')
AUTH_SUMMARY="push-fresh-auth access log: $AUTH_PUSHES pushes, $AUTH_LAYER_PUTS layer PUTs (201), $AUTH_PATCHES PATCHes, $AUTH_401 answers 401"
echo "$AUTH_SUMMARY"
if [[ ! -f results/push-fresh-auth.json ]] || ((AUTH_PUSHES != RUNS + 1 || AUTH_LAYER_PUTS != AUTH_PUSHES || AUTH_PATCHES != 0)); then
    echo "bench: expected $((RUNS + 1)) authenticated pushes, each with one layer PUT and no PATCH" >&2
    FAILED+=("push-fresh-auth layer count")
fi

mkdir -p "$ROOT/target/bench"
python3 - "$WORK/run/results" "$LAYER_BYTES" "$RUNS" >"$ROOT/target/bench/results.md" <<'PY'
import json, os, platform, statistics, sys

results, layer_bytes, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
order = [
    "start-up-help", "start-up-cold", "start-up-self-version", "push-fresh", "push-fresh-chunked",
    "push-blobs-present", "push-fresh-auth", "pull-cold", "pull-warm", "pull-warm-copy", "pull-no-cache",
    "push-oci-layout",
    "pull-oci-layout", "curl-blob-floor", "wkg-push-fresh", "wkg-pull",
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
def median(name):
    path = os.path.join(results, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return statistics.median(json.load(f)["results"][0]["times"])
print()
for ours, theirs, label in [("pull-warm", "wkg-pull", "warm re-pull vs wkg pull (target ≤ 0.2×)"),
                            ("pull-warm-copy", "wkg-pull", "warm re-pull with --link-mode copy vs wkg pull"),
                            ("pull-cold", "wkg-pull", "cold pull vs wkg pull (target ≤ 0.8×)"),
                            ("pull-no-cache", "wkg-pull", "--no-cache pull vs wkg pull (target ≤ 0.8×)"),
                            ("push-fresh", "wkg-push-fresh", "fresh push vs wkg push (target ≤ 0.5×)")]:
    a, b = median(ours), median(theirs)
    if a is not None and b is not None:
        print(f"- {label}: {a / b:.2f}× ({ms(a)} vs {ms(b)})")
PY
printf '\n%s.\n' "$AUTH_SUMMARY" >>"$ROOT/target/bench/results.md"
echo
cat "$ROOT/target/bench/results.md"

if ((${#FAILED[@]})); then
    echo "bench: failed: ${FAILED[*]}" >&2
    exit 1
fi
