#!/usr/bin/env bash
# Warm start of core-module apps next to component apps, in the same run: the time from
# starting `spin up` to its first successful response, with the compiled-code cache already
# filled by a previous start. Pairs of the same size and kind of guest:
#  - the C testbed as a component, and as the wit-bindgen core module it was made from
#    (componentized at load the first time, then served from the cache);
#  - the WAT hello component, and the hand-written WAT module of Spin's pre-component ABI;
#  - a C module of Spin's unversioned `fermyon:spin/inbound-http` (componentized at load),
#    next to the C testbed component;
#  - Spin's own 0.9 legacy app (TinyGo + Rust modules), for reference.
# Prints the median of N starts (default 21) and each module/component ratio.
# Usage: bench/module-start.sh [N]
set -euo pipefail
runs=${1:-21}
source "$(dirname "$0")/lib.sh"
cargo build --release --quiet -p spin-cli
spin="$target/release/spin"
guests="$root/tests/guests/components"

app() { # app NAME SOURCE ROUTE: a one-component app in $work/NAME
  mkdir -p "$work/$1"
  printf 'spin_manifest_version = 2\n[application]\nname = "%s"\n[[trigger.http]]\nroute = "/..."\ncomponent = "c"\n[component.c]\nsource = "%s"\n' \
    "$1" "$2" > "$work/$1/spin.toml"
}
app testbed-component "$guests/testbed.wasm"
app testbed-module "$guests/testbed.core.wasm"
app hello-component "$guests/hello.wasm"
app abi-module "$guests/legacy-abi.wasm"
app spin-v1-module "$guests/spin-v1.core.wasm"
mkdir -p "$work/legacy"
cp "$root/tests/fixtures/spin-legacy/"* "$work/legacy/"

python3 - "$spin" "$work" "$runs" <<'PY'
import os, socket, statistics, subprocess, sys, time, urllib.request

spin, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cache = os.path.join(work, "cache")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start_ms(app, path):
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([spin, "up", "--listen", f"127.0.0.1:{port}", "--cache-dir", cache,
                          "--quiet", "--log-dir", ""],
                         cwd=os.path.join(work, app), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                    if r.status == 200:
                        return (time.perf_counter() - t0) * 1000
            except OSError:
                if p.poll() is not None:
                    sys.exit(f"spin up of {app} exited with {p.returncode}")
                time.sleep(0.001)
    finally:
        p.terminate(); p.wait()

cases = [("testbed-component", "/hello"), ("testbed-module", "/hello"),
         ("hello-component", "/"), ("abi-module", "/abi/e"),
         ("spin-v1-module", "/v1/hello"), ("legacy", "/rust")]
for app, path in cases:
    start_ms(app, path)  # fills the compiled-code cache: the runs below are warm starts
medians = {}
for app, path in cases:
    times = [start_ms(app, path) for _ in range(runs)]
    medians[app] = statistics.median(times)
print(f"warm start of `spin up` to its first 200, median of {runs} (ms)")
for app, _ in cases:
    print(f"  {app:<20} {medians[app]:8.1f}")
for module, component in [("testbed-module", "testbed-component"), ("abi-module", "hello-component"),
                          ("spin-v1-module", "testbed-component")]:
    ratio = medians[module] / medians[component]
    print(f"{module} / {component}: {ratio:.2f} (target <= 1.20)")
PY
