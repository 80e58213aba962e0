#!/usr/bin/env bash
# The main job on the embedded default, no server needed: build wasmship, package its own
# component into an OCI image layout directory, inspect it, pull it back and compare bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
cargo build --release -p wasmship-runner

wasmship=target/release/wasmship
work=target/example
rm -rf "$work" && mkdir -p "$work"

component=$("$wasmship" self path)
"$wasmship" push "oci-layout://$work/store:0.1.0" "$component"
"$wasmship" inspect "oci-layout://$work/store:0.1.0"
"$wasmship" pull "oci-layout://$work/store:0.1.0" --destination "$work/pulled.wasm"
cmp "$component" "$work/pulled.wasm"
echo "round trip OK: $work/pulled.wasm is byte-identical to $component"
