# Shared by the bench scripts; `source` it right after `set -euo pipefail`. Sets `root` (and
# changes to it), `target` (cargo's output directory), `work` (a temporary directory removed
# on exit) and `pids` (processes killed on exit), and defines the helpers below.
root=$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# need TOOL...: fail unless each is on PATH (or an executable path).
need() {
  for tool; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: run tests/setup.sh" >&2; exit 1; }
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_registry DIR PORT: a docker-registry (distribution 2.8) storing under DIR, serving
# plain HTTP on 127.0.0.1:PORT; returns once it answers.
start_registry() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/data" "$port" > "$dir/config.yml"
  docker-registry serve "$dir/config.yml" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && return 0; sleep 0.05; done
  echo "registry did not start" >&2; return 1
}
