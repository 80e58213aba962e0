#!/usr/bin/env bash
# Benchmarks kept connections: `app lock` of an application of 7 small components in one
# docker-registry served over TLS on loopback (every request needs its TCP and TLS set-up
# unless a connection is kept), and `inspect --no-cache` of one of them. BENCH_BIN_BEFORE
# names a build to time beside this one (e.g. one without the connection pool).
#
# Usage: bench/connections.sh      (BENCH_RUNS=20 by default)
# Needs: docker-registry, hyperfine, openssl, python3; the release binary built.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
RUNS=${BENCH_RUNS:-20}

needs docker-registry hyperfine openssl python3
work_dir connections

# A CA and a certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
    -extfile "$WORK/san.ext" -out "$WORK/tls.pem" 2>/dev/null

# Reads go to this registry over TLS; pushes to a plain-HTTP one on the same storage (a
# loopback registry is spoken to over plain HTTP unless a hosts.toml names https).
PORT=$(free_port)
PLAIN_PORT=$(free_port)
cat >"$WORK/plain.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/store
http:
  addr: 127.0.0.1:$PLAIN_PORT
log:
  level: error
YAML
docker-registry serve "$WORK/plain.yml" >"$WORK/plain.log" 2>&1 &
PIDS+=($!)
cat >"$WORK/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/store
http:
  addr: 127.0.0.1:$PORT
  tls:
    certificate: $WORK/tls.pem
    key: $WORK/tls.key
log:
  level: error
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -fs --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
REG=127.0.0.1:$PORT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PLAIN_PORT/v2/" >/dev/null && break; sleep 0.1; done
mkdir -p "$WORK/hosts/$REG"
printf 'server = "https://%s"\n' "$REG" >"$WORK/hosts/$REG/hosts.toml"

mkdir -p "$WORK/run" "$WORK/home"
cd "$WORK/run"
export HOME=$WORK/home WASMSHIP_CA_CERTS=$WORK/ca.pem WASMSHIP_HOSTS_DIR=$WORK/hosts
python3 "$ROOT/bench/make_component.py" base.wasm 1
{
    printf 'apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: bench\nspec:\n  components:\n'
    for i in 1 2 3 4 5 6 7; do
        python3 -c "import sys; sys.stdout.buffer.write(open('base.wasm','rb').read() + b'\x00\x06\x05comp$i')" >"c$i.wasm"
        "$BIN" push "127.0.0.1:$PLAIN_PORT/app/component-$i:1.0.0" "c$i.wasm" >/dev/null
        printf '    - name: c%s\n      type: component\n      properties:\n        image: %s/app/component-%s:1.0.0\n' "$i" "$REG" "$i"
    done
} >wadm.yaml

COMMANDS=(-n "app lock (7 artifacts over TLS)" "$BIN app lock wadm.yaml -o lock.json"
    -n "inspect --no-cache over TLS" "$BIN inspect $REG/app/component-1:1.0.0 --no-cache")
if [[ -n ${BENCH_BIN_BEFORE:-} ]]; then
    COMMANDS+=(-n "app lock, before" "$BENCH_BIN_BEFORE app lock wadm.yaml -o lock.json"
        -n "inspect --no-cache, before" "$BENCH_BIN_BEFORE inspect $REG/app/component-1:1.0.0 --no-cache")
fi
mkdir -p "$ROOT/target/bench"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$ROOT/target/bench/connections.md" "${COMMANDS[@]}"
cat "$ROOT/target/bench/connections.md"
