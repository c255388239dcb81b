#!/usr/bin/env bash
# Prepare what the test suite needs on a fresh machine; idempotent and cached.
#  - Debian packages the tests run for real: redis-server, mosquitto (+ clients),
#    mariadb-server, postgresql, docker-registry (distribution 2.8), skopeo, apache2-utils (htpasswd)
#    and openssl.
#  - A venv with the PyPI `oras` client (pinned in tests/interop/requirements.txt), and one
#    with sigstore-python (tests/interop/sigstore-requirements.txt).
#  - The Python guest (spin-sdk 3.4.1 + componentize-py 0.17.2, pinned in
#    tests/guests/python/requirements.txt) and the JavaScript guest
#    (@spinframework/build-tools 1.0.7, pinned by tests/guests/js/package-lock.json),
#    built into tests/guests/build/ and rebuilt only when their sources or pins change;
#    likewise a plain WASI P3 guest (componentize-py 0.25.1, tests/guests/p3), the Spin 4
#    Python guest twice (tests/guests/spin4: spin-sdk 5.0.0 + componentize-py 0.25.1, and
#    spin-sdk 4.0.0 + componentize-py 0.23.0 for WASI 0.3.0-rc-2026-03-15) and a Spin 4
#    Redis-triggered guest (tests/guests/spin4-redis, spin-sdk 5.0.0).
#  - Debian's Chromium, the real browser the interactive Sigstore login test drives
#    (headless, on 127.0.0.1 only).
#  - The C toolchain the http-c template needs: Debian's clang, lld, wasi-libc and
#    libclang-rt-dev-wasm32, plus wit-bindgen-cli and wasm-tools from crates.io, installed
#    once into $cache/tools/bin (tests/run.sh puts it on PATH).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
guests="$root/tests/guests"
cache="${SPIN_TEST_CACHE:-$HOME/.cache/spin-tests}"
mkdir -p "$cache" "$guests/build"

log() { printf '==> %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Hash of the given files plus an extra string; used as the build stamp.
stamp_of() {
  local extra=$1; shift
  { printf '%s\n' "$extra"; cat "$@"; } | sha256sum | cut -d' ' -f1
}

# The Python toolchain venv (spin-sdk + componentize-py), linked as $cache/py for the
# template tests, which put it on PATH the way a developer activates a venv.
setup_python_venv() {
  local req="$guests/python/requirements.txt"
  local venv="$cache/py-$(stamp_of venv "$req" | cut -c1-16)"
  if [ ! -x "$venv/bin/componentize-py" ]; then
    log "creating the Python guest toolchain in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$req"
  fi
  ln -sfn "$venv" "$cache/py"
}

build_python() {
  local dir="$guests/python" out="$guests/build/python.wasm"
  local stamp
  stamp=$(stamp_of "python-guest-v3-spin-all" "$dir/app.py" "$dir/requirements.txt" "$guests/common/pgjson.py")
  if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  log "building the Python guest"
  local tmp venv="$cache/py"
  tmp=$(mktemp -d)
  # Built from a copy with the shared helpers beside app.py (componentize-py's `-p` would
  # put them ahead of the generated bindings).
  cp "$dir/app.py" "$guests/common/pgjson.py" "$tmp/"
  (cd "$tmp" && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    componentize-py -w spin-all componentize app -o "$tmp/python.wasm" >/dev/null)
  mv "$tmp/python.wasm" "$out"
  rm -rf "$tmp"
  echo "$stamp" > "$out.stamp"
}

# The plain WASI P3 guest (componentize-py 0.25.1, `wasi:http/service@0.3.0`), in a venv of
# its own (componentize-py reads every WIT in a venv, so toolchains do not share one).
build_python_p3() {
  local dir="$guests/p3" out="$guests/build/p3.wasm"
  local stamp
  stamp=$(stamp_of "p3-guest-v1" "$dir/app.py" "$dir/requirements.txt" "$dir"/wit/world.wit "$dir"/wit/deps/*.wit)
  if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  local venv="$cache/py-p3-$(stamp_of venv "$dir/requirements.txt" | cut -c1-16)"
  if [ ! -x "$venv/bin/componentize-py" ]; then
    log "creating the P3 guest toolchain in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$dir/requirements.txt"
  fi
  log "building the P3 guest"
  local tmp
  tmp=$(mktemp -d)
  (cd "$dir" && "$venv/bin/componentize-py" -d wit -w service componentize app -o "$tmp/p3.wasm" >/dev/null)
  mv "$tmp/p3.wasm" "$out"
  rmdir "$tmp"
  echo "$stamp" > "$out.stamp"
}

# A Spin 4 Python guest with one SDK release: `build_spin4 spin4 sdk5 http-trigger@4.1.0`
# builds tests/guests/build/spin4-sdk5.wasm from tests/guests/spin4 with
# spin4/requirements-sdk5.txt for the world spin:up/http-trigger@4.1.0.
build_spin4() {
  local name=$1 sdk=$2 world=$3
  local dir="$guests/$name" out="$guests/build/$name-$sdk.wasm" req="$guests/spin4/requirements-$sdk.txt"
  local stamp
  stamp=$(stamp_of "spin4-guest-v2-$world" "$dir/app.py" "$req" "$guests/common/pgjson.py")
  if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  local venv="$cache/py-spin4-$(stamp_of venv "$req" | cut -c1-16)"
  if [ ! -x "$venv/bin/componentize-py" ]; then
    log "creating the Spin 4 Python toolchain ($sdk) in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$req"
  fi
  log "building the Spin 4 Python guest $name ($sdk)"
  local tmp
  tmp=$(mktemp -d)
  # componentize-py finds the SDK's WIT through the active venv.
  cp "$dir/app.py" "$guests/common/pgjson.py" "$tmp/"
  (cd "$tmp" && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    componentize-py -w "spin:up/$world" componentize app -o "$tmp/out.wasm" >/dev/null)
  mv "$tmp/out.wasm" "$out"
  rm -rf "$tmp"
  echo "$stamp" > "$out.stamp"
}

build_js() {
  local dir="$guests/js" out="$guests/build/js.wasm"
  local stamp
  stamp=$(stamp_of "js-guest-v2" "$dir/package.json" "$dir/package-lock.json" "$dir/build.mjs" "$dir/src/index.js" "$dir/wit/world.wit" "$dir/wit/deps/spin/spin.wit")
  if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  log "building the JavaScript guest"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && node build.mjs \
    && npx --no-install j2w -i build/bundle.js -o "$out.tmp" >/dev/null)
  mv "$out.tmp" "$out"
  echo "$stamp" > "$out.stamp"
}

setup_oras() {
  local req="$root/tests/interop/requirements.txt"
  local venv="$cache/oras-$(stamp_of oras "$req" | cut -c1-16)"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import oras' 2>/dev/null; then
    log "creating the oras client venv in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$req"
  fi
  ln -sfn "$venv" "$cache/oras"
}

# crates.io tools for the C template, pinned; `cargo install` skips what is already there.
install_tools() {
  local tools="$cache/tools"
  local spec
  for spec in wit-bindgen-cli@0.46.0:wit-bindgen wasm-tools@1.240.0:wasm-tools; do
    local crate=${spec%%:*} bin=${spec##*:}
    if ! "$tools/bin/$bin" --version 2>/dev/null | grep -q "${crate##*@}"; then
      log "installing $crate into $tools (once; takes a few minutes)"
      cargo install -q --locked --root "$tools" "$crate"
    fi
  done
}

# sigstore-python (the independent verifier) and the local Sigstore instance's Python deps.
setup_sigstore() {
  local req="$root/tests/interop/sigstore-requirements.txt"
  local venv="$cache/sigstore-$(stamp_of sigstore "$req" | cut -c1-16)"
  if [ ! -x "$venv/bin/sigstore" ]; then
    log "creating the sigstore-python venv in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$req"
  fi
  ln -sfn "$venv" "$cache/sigstore"
}

apt_install redis-server mosquitto mosquitto-clients mariadb-server postgresql docker-registry skopeo apache2-utils openssl \
  make clang lld wasi-libc libclang-rt-dev-wasm32 chromium
install_tools
setup_oras
setup_sigstore
setup_python_venv
build_python
build_python_p3
build_spin4 spin4 sdk5 http-trigger@4.1.0
build_spin4 spin4 sdk4 http-trigger@4.0.0
build_spin4 spin4-redis sdk5 redis-trigger@4.1.0
build_js
log "test prerequisites ready"
