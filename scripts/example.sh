#!/usr/bin/env bash
# Build `spin` (release) and serve the bundled example app on http://127.0.0.1:3000.
# Extra arguments go to `spin up`, e.g. `--listen 127.0.0.1:8080` or `--variable who=you`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet -p spin-cli --manifest-path "$root/Cargo.toml"
exec "${CARGO_TARGET_DIR:-$root/target}/release/spin" up -f "$root/examples/hello" "$@"
