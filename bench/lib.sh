# Shared by the bench scripts (sourced, after `set -euo pipefail` and `cd` to the repository):
# the binary, the tools a script needs, a work directory removed on exit with the registries
# it started, and loopback docker-registries (optionally pull-through mirrors).

ROOT=$(pwd)
BIN=${BENCH_BIN:-$ROOT/target/release/wasmship}

# needs TOOL... : every tool installed and the binary built, or exit saying which is not.
needs() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
    done
    [[ -x $BIN ]] || { echo "bench: build first (cargo test --release --workspace --no-run)" >&2; exit 1; }
}

# work_dir NAME : sets WORK to a new directory, removed on exit with every registry started.
PIDS=()
work_dir() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmship-bench-$1.XXXXXX")
    trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_registry NAME PORT [UPSTREAM_PORT] : a docker-registry storing under $WORK/NAME,
# deletes on; with UPSTREAM_PORT a pull-through mirror of that registry. Waits until it answers.
start_registry() {
    local proxy=""
    [[ -n ${3:-} ]] && proxy=$'proxy:\n  remoteurl: http://127.0.0.1:'"$3"
    cat >"$WORK/$1.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/$1
  delete:
    enabled: true
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

# source_and_target : two loopback registries, SRC and DST (host:port); then works in
# $WORK/run with HOME=$WORK/home (beside it: the sandbox never grants the directory holding HOME).
source_and_target() {
    SRC_PORT=$(free_port); start_registry source "$SRC_PORT"
    DST_PORT=$(free_port); start_registry target "$DST_PORT"
    SRC=127.0.0.1:$SRC_PORT DST=127.0.0.1:$DST_PORT
    mkdir -p "$WORK/run" "$WORK/home"
    cd "$WORK/run"
    export HOME=$WORK/home
}
