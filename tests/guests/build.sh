#!/usr/bin/env bash
# Rebuild the committed test components (WAT and C) in tests/guests/components/.
# Needs: wasm-tools 1.240.0 and wit-bindgen-cli 0.46.0 (cargo install --locked ...),
# Debian's clang, lld, wasi-libc and libclang-rt-dev-wasm32, and the reactor adapter
# from the crates.io crate wasi-preview1-component-adapter-provider 48.0.8.
# The Python and JavaScript guests are not committed; tests/setup.sh builds them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
out=components
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

adapter=${WASI_ADAPTER:-$(ls ~/.cargo/registry/src/*/wasi-preview1-component-adapter-provider-48.0.8/artefacts/wasi_snapshot_preview1.reactor.wasm 2>/dev/null | head -n1)}
if [ -z "$adapter" ]; then
  echo "fetching wasi-preview1-component-adapter-provider 48.0.8 for the reactor adapter" >&2
  mkdir -p "$tmp/fetch/src" && echo 'fn main(){}' > "$tmp/fetch/src/main.rs"
  printf '[package]\nname="f"\nversion="0.0.0"\nedition="2021"\n[dependencies]\nwasi-preview1-component-adapter-provider="=48.0.8"\n' > "$tmp/fetch/Cargo.toml"
  (cd "$tmp/fetch" && cargo fetch -q)
  adapter=$(ls ~/.cargo/registry/src/*/wasi-preview1-component-adapter-provider-48.0.8/artefacts/wasi_snapshot_preview1.reactor.wasm | head -n1)
fi

for w in wat/*.wat; do
  name=$(basename "$w" .wat)
  wasm-tools component embed wit --world hello "$w" -o "$tmp/$name.core.wasm"
  wasm-tools component new "$tmp/$name.core.wasm" -o "$out/$name.wasm"
  echo "built $out/$name.wasm"
done

wit-bindgen c wit --world testbed --out-dir "$tmp/gen" >/dev/null
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror -I"$tmp/gen" \
  c/testbed.c "$tmp/gen/testbed.c" "$tmp/gen/testbed_component_type.o" -o "$tmp/testbed.core.wasm"
wasm-tools component new "$tmp/testbed.core.wasm" --adapt wasi_snapshot_preview1="$adapter" -o "$out/testbed.wasm"
echo "built $out/testbed.wasm"
# The same guest as the core module wit-bindgen and clang make, before `component new`:
# the runtime componentizes it itself, as Spin does for wasm32-wasip1 modules.
cp "$tmp/testbed.core.wasm" "$out/testbed.core.wasm"
echo "built $out/testbed.core.wasm"

# A core module of Spin's unversioned interfaces (exports fermyon:spin/inbound-http), as
# Spin 1.x SDKs with wit-bindgen 0.5+ built them; left a module for the runtime to convert.
wit-bindgen c wit-v1 --world spin-v1-guest --out-dir "$tmp/gen-v1" >/dev/null
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror -I"$tmp/gen-v1" \
  modules/spin-v1.c modules/spin-v1-db.c "$tmp/gen-v1/spin_v1_guest.c" \
  "$tmp/gen-v1/spin_v1_guest_component_type.o" -o "$out/spin-v1.core.wasm"
echo "built $out/spin-v1.core.wasm"
# The same guest as a module of Spin's pre-component ABI (Spin 1.x SDKs before wit-bindgen
# 0.5): the old HTTP export (legacy-shim.c), the imports under their old module names, and no
# component type section.
sed -e 's/__import_module__("fermyon:spin\/config")/__import_module__("spin-config")/' \
  -e 's/__import_module__("fermyon:spin\/key-value")/__import_module__("key-value")/' \
  -e 's/__import_module__("fermyon:spin\/http"), __import_name__("send-request")/__import_module__("wasi-outbound-http"), __import_name__("request")/' \
  -e 's/__import_module__("fermyon:spin\/redis")/__import_module__("outbound-redis")/' \
  -e 's/__import_module__("fermyon:spin\/postgres")/__import_module__("outbound-pg")/' \
  -e 's/__import_module__("fermyon:spin\/mysql")/__import_module__("outbound-mysql")/' \
  -e 's/__import_module__("fermyon:spin\/sqlite")/__import_module__("sqlite")/' \
  "$tmp/gen-v1/spin_v1_guest.c" > "$tmp/gen-v1/legacy.c"
if grep -q '__import_module__("fermyon:spin' "$tmp/gen-v1/legacy.c"; then
  echo "build.sh: an import of spin-v1.c kept its unversioned name" >&2
  exit 1
fi
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror -I"$tmp/gen-v1" \
  modules/spin-v1.c modules/spin-v1-db.c modules/legacy-shim.c "$tmp/gen-v1/legacy.c" \
  -o "$out/spin-v1.legacy.wasm"
echo "built $out/spin-v1.legacy.wasm"

# A module exporting two HTTP handlers (the runtime must refuse it, naming both).
wit-bindgen c wit-both --world two-handlers --out-dir "$tmp/gen-both" >/dev/null
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror -I"$tmp/gen-both" \
  modules/two-handlers.c "$tmp/gen-both/two_handlers.c" "$tmp/gen-both/two_handlers_component_type.o" \
  -o "$out/two-handlers.core.wasm"
echo "built $out/two-handlers.core.wasm"

# Core modules: Spin's pre-component ABI by hand, and a WAGI command.
wasm-tools parse modules/legacy-abi.wat -o "$out/legacy-abi.wasm"
echo "built $out/legacy-abi.wasm"
clang --target=wasm32-wasi -O2 -Wall -Werror modules/wagi.c -o "$out/wagi.wasm"
echo "built $out/wagi.wasm"
# The same WAGI program as a WASI command component (wasi:cli/run), with the command adapter.
wasm-tools component new "$out/wagi.wasm" --adapt wasi_snapshot_preview1="$(dirname "$adapter")/wasi_snapshot_preview1.command.wasm" \
  -o "$out/wagi.component.wasm"
echo "built $out/wagi.component.wasm"

# The hello component in the component text format, for `spin up -f file.wat`.
wasm-tools print "$out/hello.wasm" > "$out/hello.component.wat"
echo "built $out/hello.component.wat"
