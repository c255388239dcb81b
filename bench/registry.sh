#!/usr/bin/env bash
# Registry benchmark: push and pull a 200 MB app (20 components of random bytes plus 1,000
# small files) to a local docker-registry (distribution 2.8), side by side with `skopeo copy`
# of the same artifact between an OCI layout directory and the registry, in the same run.
# Prints seconds for: first push, unchanged re-push, first pull into an empty store, and
# re-pull with a full store. Usage: bench/registry.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for tool in docker-registry skopeo; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run tests/setup.sh" >&2; exit 1; }
done
cargo build --release --quiet -p spin-cli
spin="${CARGO_TARGET_DIR:-$root/target}/release/spin"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "generating the 200 MB app in $work/app" >&2
mkdir -p "$work/app/files"
manifest="$work/app/spin.toml"
printf 'spin_manifest_version = 2\n[application]\nname = "bench"\n' > "$manifest"
for i in $(seq 1 20); do
  head -c $((10 * 1024 * 1024)) /dev/urandom > "$work/app/c$i.wasm"
  printf '[[trigger.http]]\nroute = "/c%s/..."\ncomponent = "c%s"\n[component.c%s]\nsource = "c%s.wasm"\n' "$i" "$i" "$i" "$i" >> "$manifest"
done
python3 - "$work/app/files" <<'PY'
import os, sys
for i in range(1000):
    with open(os.path.join(sys.argv[1], f"f{i:04}.txt"), "wb") as f:
        f.write(os.urandom(512))
PY
printf 'files = [{ source = "files", destination = "/files" }]\n' >> "$manifest"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/data" "$port" > "$dir/config.yml"
  docker-registry serve "$dir/config.yml" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && return 0; sleep 0.05; done
  echo "registry did not start" >&2; return 1
}
# Each timing starts from clean page cache writeback (`sync` first), so neither tool waits
# for data the previous step left dirty (fsync on ext4 also flushes what others wrote).
seconds() { local s e; sync; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print(f'{$e - $s:.2f}')"; }

# spin: its own registry storage and store.
port=$(free_port); start_registry "$work/reg-spin" "$port"
ref="127.0.0.1:$port/bench/app:v1"
cache="$work/spin-cache"
spin_push=$(cd "$work/app" && seconds "$spin" registry push "$ref" --insecure --cache-dir "$cache")
spin_repush=$(cd "$work/app" && seconds "$spin" registry push "$ref" --insecure --cache-dir "$cache")
spin_pull=$(seconds "$spin" registry pull "$ref" --insecure --cache-dir "$work/spin-pull")
spin_repull=$(seconds "$spin" registry pull "$ref" --insecure --cache-dir "$work/spin-pull")

# skopeo: the same artifact, from an OCI layout into a fresh registry, then back out.
(cd "$work/app" && "$spin" registry push v1 --oci-layout "$work/layout" --cache-dir "$cache" >/dev/null)
port=$(free_port); start_registry "$work/reg-skopeo" "$port"
sref="docker://127.0.0.1:$port/bench/app:v1"
sk() { skopeo copy --quiet --preserve-digests --src-tls-verify=false --dest-tls-verify=false "$@"; }
sk_push=$(seconds sk "oci:$work/layout:v1" "$sref")
sk_repush=$(seconds sk "oci:$work/layout:v1" "$sref")
sk_pull=$(seconds sk "$sref" "oci:$work/skopeo-pull:v1")
sk_repull=$(seconds sk "$sref" "oci:$work/skopeo-pull:v1")
# For reference: skopeo's first pull until its data is on disk, as spin's is when it returns.
sk_durable() { sk "$@" && sync; }
sk_pull_durable=$(seconds sk_durable "$sref" "oci:$work/skopeo-pull-durable:v1")

size=$(du -sh --apparent-size "$work/layout/blobs" | cut -f1)
python3 - "$spin_push" "$spin_repush" "$spin_pull" "$spin_repull" "$sk_push" "$sk_repush" "$sk_pull" "$sk_repull" "$size" "$sk_pull_durable" <<'PY'
import sys
s = list(map(float, sys.argv[1:5])); k = list(map(float, sys.argv[5:9])); durable = float(sys.argv[10])
print(f"200 MB app (20 x 10 MiB components, 1,000 x 512 B files; {sys.argv[9]} of blobs), docker-registry 2.8 on 127.0.0.1")
print(f"{'seconds':<28}{'spin':>8}{'skopeo copy':>14}")
for name, a, b in zip(["first push", "unchanged re-push", "first pull (empty store)", "re-pull (full store)"], s, k):
    print(f"{name:<28}{a:>8.2f}{b:>14.2f}")
print(f"{'first pull, then sync':<28}{'':>8}{durable:>14.2f}")
print(f"first push: {k[0] / s[0]:.2f}x skopeo's speed; first pull: {k[2] / s[2]:.2f}x (target >= 1x); {durable / s[2]:.2f}x skopeo + sync")
print(f"unchanged re-push {s[1]:.2f}s, re-pull {s[3]:.2f}s (target < 0.5 s each)")
PY
