#!/usr/bin/env bash
# Verification benchmark, side by side with sigstore-python in the same run:
#  - `spin verify` of one signed app on a local docker-registry (distribution 2.8), signed
#    by the local Sigstore instance, with a policy file and a warm trust root;
#  - offline `spin verify-bundle` of the sigstore-conformance happy-path bundle, and
#    sigstore-python's `verify identity --offline` of the same bundle and artifact.
# Prints the median of N runs (default 15) of each. Usage: bench/verify.sh [N]
set -euo pipefail
runs=${1:-15}
source "$(dirname "$0")/lib.sh"
cache="${SPIN_TEST_CACHE:-$HOME/.cache/spin-tests}"
need docker-registry "$cache/sigstore/bin/sigstore"
cargo build --release --quiet -p spin-cli
spin="$target/release/spin"
export HOME="$work/home" SPIN_DISABLE_KEYRING=1
mkdir -p "$HOME"

mkdir -p "$work/trust"
"$cache/sigstore/bin/python" tests/interop/sigstore_local.py --dir "$work/trust" > "$work/sigstore.json" 2>/dev/null &
pids+=($!)
port=$(free_port); start_registry "$work/reg" "$port"
for _ in $(seq 1 100); do [ -s "$work/sigstore.json" ] && break; sleep 0.1; done
issuer=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['url'])" "$work/sigstore.json")
token=$(python3 -c "
import json, sys, urllib.request
r = urllib.request.Request(sys.argv[1] + '/token', data=json.dumps({'sub': 'ops', 'email': 'ops@example.com'}).encode(), headers={'Content-Type': 'application/json'})
print(json.load(urllib.request.urlopen(r))['id_token'])" "$issuer")

mkdir -p "$work/app"
printf 'spin_manifest_version = 2\n[application]\nname = "bench"\n[[trigger.http]]\nroute = "/..."\ncomponent = "hello"\n[component.hello]\nsource = "%s"\n' \
  "$root/tests/guests/components/hello.wasm" > "$work/app/spin.toml"
ref="127.0.0.1:$port/bench/app:v1"
(cd "$work/app" && "$spin" registry push "$ref" --insecure --sign --identity-token "$token" \
  --trusted-root "$work/trust/trusted_root.json" --signing-config "$work/trust/signing_config.json" >/dev/null 2>&1)
cat > "$work/policy.toml" <<TOML
version = 1
[[rule]]
name = "bench"
scope = "127.0.0.1:$port/bench/*"
trusted_root = "$work/trust/trusted_root.json"
[[rule.authority]]
issuer = "$issuer"
subject = "ops@example.com"
TOML
"$spin" verify "$ref" --insecure --policy "$work/policy.toml" >/dev/null  # warm: trust root read once, must pass

case=tests/fixtures/sigstore-conformance/bundle-verify
identity=https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main
gh=https://token.actions.githubusercontent.com
spin_offline() { "$spin" verify-bundle --bundle "$case/happy-path-v0.3/bundle.sigstore.json" --certificate-identity "$identity" --certificate-oidc-issuer "$gh" "$case/a.txt"; }
python_offline() { "$cache/sigstore/bin/sigstore" verify identity --offline --bundle "$case/happy-path-v0.3/bundle.sigstore.json" --cert-identity "$identity" --cert-oidc-issuer "$gh" "$case/a.txt"; }
spin_app() { "$spin" verify "$ref" --insecure --policy "$work/policy.toml"; }
spin_offline >/dev/null 2>&1 || { echo "spin verify-bundle failed on the conformance bundle" >&2; exit 1; }
python_offline >/dev/null 2>&1 || { echo "sigstore-python failed on the conformance bundle" >&2; exit 1; }

median_ms() {
  local f=$1 times=()
  for _ in $(seq 1 "$runs"); do
    local s e
    s=$(date +%s%N); "$f" >/dev/null 2>&1; e=$(date +%s%N)
    times+=($(( (e - s) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}
app=$(median_ms spin_app)
offline=$(median_ms spin_offline)
python=$(median_ms python_offline)
python3 - "$runs" "$app" "$offline" "$python" <<'PY'
import sys
runs, app, offline, python = sys.argv[1], *map(float, sys.argv[2:])
print(f"median of {runs} runs, milliseconds (whole process: start, verify, exit)")
print(f"{'spin verify (signed app, local registry, policy)':<58}{app:>8.1f}")
print(f"{'spin verify-bundle (conformance happy-path-v0.3, offline)':<58}{offline:>8.1f}")
print(f"{'sigstore-python verify identity --offline (same bundle)':<58}{python:>8.1f}")
print(f"offline bundle: {offline:.1f} ms (target < 50 ms); {python / offline:.1f}x faster than sigstore-python (target >= 10x)")
PY
