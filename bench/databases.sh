#!/usr/bin/env bash
# Database write benchmark: requests/second of the Spin 4 Python SDK test guest
# (tests/guests/spin4 on spin-sdk 5.0.0, built by tests/setup.sh; a WASI P3 component, so its
# instances are reused) served by `spin up`, each request writing
# one new key: to the built-in key/value store, to a SQLite database, to Redis (SET), to
# PostgreSQL (INSERT), then all four in one request; with wrk -c<connections> on loopback.
# The servers' own clients on the same servers, in the same run, are the ceilings:
# redis-benchmark (SET) and pgbench (the same INSERT). The key/value store's own rates come
# from the committed C test component (tests/guests/components/testbed.wasm: PUT and GET of
# one key), whose requests cost little next to the store's.
# Usage: bench/databases.sh [seconds-per-run] [connections]
set -euo pipefail
duration=${1:-10}
conns=${2:-32}
source "$(dirname "$0")/lib.sh"
need wrk redis-server redis-benchmark gcc
guest="$root/tests/guests/build/spin4-sdk5.wasm"
[ -f "$guest" ] || { echo "$guest is missing: run tests/setup.sh" >&2; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
[ -x "$pgbin/pgbench" ] || { echo "PostgreSQL is missing: run tests/setup.sh" >&2; exit 1; }
cargo build --release --quiet -p spin-cli
spin="$target/release/spin"

# Redis, without persistence (as a cache would run).
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
pids+=($!)

# PostgreSQL with its default durability, in a data directory of this run. It refuses to
# run as root, so under root it runs as Debian's `postgres` user.
pg_port=$(free_port)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); chown postgres: "$work"; fi
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust >/dev/null
"${as_pg[@]}" "$pgbin/postgres" -D "$work/pg" -p "$pg_port" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories="$work" -c max_connections=200 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break; sleep 0.1; done
psql=("$pgbin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres)
"${psql[@]}" -c "CREATE TABLE bench (v TEXT)"

# The app: one component, every store and server allowed.
mkdir -p "$work/app"
cat > "$work/app/spin.toml" <<EOF
spin_manifest_version = 2
[application]
name = "db-bench"
[[trigger.http]]
route = "/..."
component = "db"
[component.db]
source = "$guest"
key_value_stores = ["default"]
sqlite_databases = ["default"]
allowed_outbound_hosts = ["redis://127.0.0.1:$redis_port", "postgres://127.0.0.1:$pg_port"]
[[trigger.http]]
route = "/c/..."
component = "c"
[component.c]
source = "$root/tests/guests/components/testbed.wasm"
key_value_stores = ["default"]
[component.db.variables]
redis_address = "redis://127.0.0.1:$redis_port"
pg_address = "postgres://postgres@127.0.0.1:$pg_port/postgres"
EOF
spin_port=$(free_port)
"$spin" up -f "$work/app/spin.toml" --listen "127.0.0.1:$spin_port" --state-dir "$work/state" \
  --sqlite "CREATE TABLE IF NOT EXISTS bench (v TEXT)" --log-dir "" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$spin_port/hello" >/dev/null && break; sleep 0.05; done
for op in kv sqlite redis pg all; do
  reply=$(curl -s -X POST "http://127.0.0.1:$spin_port/db/$op")
  [ "$reply" = ok ] || { echo "/db/$op answered: $reply" >&2; exit 1; }
done

# rate URL [wrk args...]: requests/second, failing on any error response.
rate() {
  local url=$1; shift
  wrk -t2 -c"$conns" -d2s "$@" "$url" >/dev/null
  local out
  out=$(wrk -t2 -c"$conns" -d"${duration}s" "$@" "$url")
  if grep -q "Non-2xx" <<<"$out"; then echo "errors from $url: $out" >&2; exit 1; fi
  awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out"
}
printf 'wrk.method = "POST"\n' > "$work/post.lua"
declare -A spin_rps
for op in kv sqlite redis pg all; do
  spin_rps[$op]=$(rate "http://127.0.0.1:$spin_port/db/$op" -s "$work/post.lua")
done
curl -sf -X PUT --data v "http://127.0.0.1:$spin_port/kv/read-me" >/dev/null
kv_read=$(rate "http://127.0.0.1:$spin_port/kv/read-me")
# A new key each time (SQLite skips rewriting a row with the same bytes).
cat > "$work/put.lua" <<'EOF'
wrk.method = "PUT"
wrk.body = "value"
request = function() return wrk.format(nil, "/c/kv/k" .. math.random(1, 1000000000)) end
EOF
curl -sf -X PUT --data v "http://127.0.0.1:$spin_port/c/kv/k" >/dev/null
c_write=$(rate "http://127.0.0.1:$spin_port/" -s "$work/put.lua")
c_read=$(rate "http://127.0.0.1:$spin_port/c/kv/k")

# The same store on a disk whose fsync takes 4 ms (this machine's takes a fraction of a
# millisecond): an LD_PRELOAD shim makes fsync and fdatasync sleep first.
slow_ms=${SPIN_BENCH_FSYNC_MS:-4}
cat > "$work/slowsync.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
static void pause_ms(void) {
  long n = atol(getenv("SLOW_FSYNC_MS") ? getenv("SLOW_FSYNC_MS") : "4");
  struct timespec t = { n / 1000, (n % 1000) * 1000000L };
  nanosleep(&t, NULL);
}
int fsync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fsync"); pause_ms(); return real(fd); }
int fdatasync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fdatasync"); pause_ms(); return real(fd); }
EOF
gcc -shared -fPIC -O2 -o "$work/slowsync.so" "$work/slowsync.c" -ldl
slow_port=$(free_port)
LD_PRELOAD="$work/slowsync.so" SLOW_FSYNC_MS=$slow_ms "$spin" up -f "$work/app/spin.toml" \
  --listen "127.0.0.1:$slow_port" --state-dir "$work/slow-state" --log-dir "" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$slow_port/hello" >/dev/null && break; sleep 0.05; done
slow_write=$(rate "http://127.0.0.1:$slow_port/" -s "$work/put.lua")

redis_ceiling=$(redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$conns" -n 200000 -t set --csv \
  | awk -F'"' '$2 == "SET" {printf "%.0f", $4}')
echo "INSERT INTO bench (v) VALUES (md5(random()::text));" > "$work/insert.sql"
pg_ceiling=$("$pgbin/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U postgres -c "$conns" -j 2 \
  -T "$duration" -f "$work/insert.sql" postgres 2>/dev/null | awk '/^tps/ {printf "%.0f", $3}')
rows=$("${psql[@]}" -At -c "SELECT count(*) FROM bench")

echo
echo "One write per request, wrk -c$conns, ${duration}s runs (requests/second):"
printf '  %-34s %8s\n' \
  "key/value SET (built-in, SQLite)" "${spin_rps[kv]}" \
  "SQLite INSERT" "${spin_rps[sqlite]}" \
  "Redis SET" "${spin_rps[redis]}" \
  "PostgreSQL INSERT" "${spin_rps[pg]}" \
  "all four in one request" "${spin_rps[all]}" \
  "key/value GET (for comparison)" "$kv_read"
echo "The key/value store itself, from the C component (PUT of new keys, GET of one):"
printf '  %-34s %8s\n' "key/value SET" "$c_write" "key/value GET" "$c_read" \
  "key/value SET, ${slow_ms} ms fsync" "$slow_write"
echo "Ceilings, the servers' own clients on the same servers:"
printf '  %-34s %8s   (spin: %s%%)\n' \
  "redis-benchmark SET" "$redis_ceiling" "$(( 100 * ${spin_rps[redis]} / redis_ceiling ))" \
  "pgbench INSERT" "$pg_ceiling" "$(( 100 * ${spin_rps[pg]} / pg_ceiling ))"
echo "($rows rows written to PostgreSQL in all.)"
