#!/usr/bin/env bash
# Registry benchmark: push and pull a 200 MB app (20 components of random bytes plus 1,000
# small files) to a local docker-registry (distribution 2.8), side by side with `skopeo copy`
# of the same artifact between an OCI layout directory and the registry, in the same run.
# Prints seconds for: first push, unchanged re-push, first pull into an empty store, and
# re-pull with a full store, as medians of ROUNDS rounds (default 3), each on fresh
# registries and stores. Usage: bench/registry.sh [ROUNDS]
set -euo pipefail
rounds=${1:-3}
source "$(dirname "$0")/lib.sh"
need docker-registry skopeo
cargo build --release --quiet -p spin-cli
spin="$target/release/spin"

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

# Each timing starts from clean page cache writeback (`sync` first), so neither tool waits
# for data the previous step left dirty (fsync on ext4 also flushes what others wrote).
seconds() { local s e; sync; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print(f'{$e - $s:.2f}')"; }

# One round: fresh registries and stores, spin's four steps, then skopeo's. Nothing is deleted
# between rounds (deleting thousands of files would slow the next round's file creation).
(cd "$work/app" && "$spin" registry push v1 --oci-layout "$work/layout" --cache-dir "$work/layout-cache" >/dev/null)
sk() { skopeo copy --quiet --preserve-digests --src-tls-verify=false --dest-tls-verify=false "$@"; }
# For reference: skopeo's first pull until its data is on disk, as spin's is when it returns.
sk_durable() { sk "$@" && sync; }
# How costly creating files is in the work directory right now (spin's pull creates about
# 1,050: the unpacked archive, skopeo's about 25).
create_files() {
  python3 -c 'import os, sys, time
t = time.perf_counter()
for i in range(1000):
    open(os.path.join(sys.argv[1], f"{i}"), "w").close()
print(f"{time.perf_counter() - t:.2f}")' "$1"
}
rows=()
for round in $(seq 1 "$rounds"); do
  w="$work/round$round"; mkdir -p "$w/probe"
  port=$(free_port); start_registry "$w/reg-spin" "$port"
  ref="127.0.0.1:$port/bench/app:v1"
  push=$(cd "$work/app" && seconds "$spin" registry push "$ref" --insecure --cache-dir "$w/spin-cache")
  repush=$(cd "$work/app" && seconds "$spin" registry push "$ref" --insecure --cache-dir "$w/spin-cache")
  probe=$(create_files "$w/probe")
  pull=$(seconds "$spin" registry pull "$ref" --insecure --cache-dir "$w/spin-pull")
  repull=$(seconds "$spin" registry pull "$ref" --insecure --cache-dir "$w/spin-pull")
  port=$(free_port); start_registry "$w/reg-skopeo" "$port"
  sref="docker://127.0.0.1:$port/bench/app:v1"
  sk_push=$(seconds sk "oci:$work/layout:v1" "$sref")
  sk_repush=$(seconds sk "oci:$work/layout:v1" "$sref")
  sk_pull=$(seconds sk "$sref" "oci:$w/skopeo-pull:v1")
  sk_repull=$(seconds sk "$sref" "oci:$w/skopeo-pull:v1")
  sk_pull_durable=$(seconds sk_durable "$sref" "oci:$w/skopeo-pull-durable:v1")
  rows+=("$push $repush $pull $repull $sk_push $sk_repush $sk_pull $sk_repull $sk_pull_durable $probe")
  echo "round $round: ${rows[-1]}" >&2
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pids=()
done

size=$(du -sh --apparent-size "$work/layout/blobs" | cut -f1)
python3 - "$size" "${rows[@]}" <<'PY'
import statistics, sys
rounds = [list(map(float, r.split())) for r in sys.argv[2:]]
m = [statistics.median(col) for col in zip(*rounds)]
s, k, durable, probe = m[0:4], m[4:8], m[8], m[9]
print(f"200 MB app (20 x 10 MiB components, 1,000 x 512 B files; {sys.argv[1]} of blobs), docker-registry 2.8 on 127.0.0.1")
print(f"median of {len(rounds)} rounds, seconds{'spin':>12}{'skopeo copy':>14}")
for i, name in enumerate(["first push", "unchanged re-push", "first pull (empty store)", "re-pull (full store)"]):
    print(f"{name:<32}{s[i]:>8.2f}{k[i]:>14.2f}")
print(f"{'first pull, then sync':<32}{'':>8}{durable:>14.2f}")
print(f"first push: {k[0] / s[0]:.2f}x skopeo's speed; first pull: {k[2] / s[2]:.2f}x (target >= 1x); {durable / s[2]:.2f}x skopeo + sync")
print("first pull per round: " + ", ".join(f"{r[6] / r[2]:.2f}x" for r in rounds))
print(f"unchanged re-push {s[1]:.2f}s, re-pull {s[3]:.2f}s (target < 0.5 s each)")
print(f"creating 1,000 empty files in the work directory: {probe:.2f}s (median; spin's pull creates about 1,050 files, skopeo's about 25)")
PY
