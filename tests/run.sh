#!/usr/bin/env bash
# The whole test suite: prerequisites, build, then every test (unit and end to end).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# One build directory per user, outside the clone: a fresh clone (CI) reuses what an earlier
# run compiled instead of building wasmtime again, and two clones never hold two copies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/spin-target}"
"$root/tests/setup.sh"
# wit-bindgen and wasm-tools for the http-c template tests, and the Python template's
# toolchain venv (componentize-py) as `spin build` would find them on a developer's PATH.
export PATH="${SPIN_TEST_CACHE:-$HOME/.cache/spin-tests}/tools/bin:$PATH"
cargo build --workspace --all-targets
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
  cargo test --workspace --doc
else
  cargo test --workspace --no-fail-fast
fi
