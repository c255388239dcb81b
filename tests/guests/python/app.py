"""Test guest built with the Spin Python SDK: hello, key/value and variables.

Routes (below the component's route prefix, read from `spin-path-info`):
  /hello              greeting
  /kv/<key>           GET value (404 if absent), PUT body, DELETE
  /exists/<key>       "true" or "false"
  /keys               the default store's keys, sorted, one per line
  /store/<label>      open a store by label: "ok" or the error name
  /var/<name>         a component variable
  /sql/<database>      POST {"sql": ..., "params": [...]} to fermyon:spin/sqlite@2.0.0:
                      {"columns", "rows", "last_insert_rowid", "changes"} or the error
  /sql3/<database>     the same through spin:sqlite@3.0.0 (its synchronous functions)
  /redis?<address>     fermyon:spin/redis@2.0.0: every operation on keys prefixed `p2:`,
                      one line each, or the error of `open`
  /mqtt               POST {"address", "username", "password", "topic", "payload", "qos"}:
                      fermyon:spin/mqtt@2.0.0 open + publish: "ok" or the error
  /mysql              POST {"address", "sql", "params": [[type, value], ...], "query": bool}:
                      fermyon:spin/mysql@2.0.0: {"columns": [[name, type]], "rows"} or the error
  /pg/<2|3|4>         POST {"address", "sql", "params": [[case, value], ...], "query": bool}
                      through fermyon:spin/postgres@2.0.0, spin:postgres@3.0.0 or @4.0.0:
                      {"columns", "rows"} or {"affected"}; an error as {"error", "message"}
                      (see ../common/pgjson.py)
  /llm                call an interface the runtime does not provide: its error
  /tcp?<host>:<port>  wasi:sockets through Python's socket module: connect, send "ping\n",
                      the reply; or "<step>: <error>"
  /udp?<host>:<port>  the same with one datagram each way
  /db/<kv|sqlite|redis|pg|all>  one write of a new key (bench/databases.sh): to the default
                      store, SQLite's `default` table `bench`, Redis at the variable
                      `redis_address`, PostgreSQL's table `bench` at `pg_address`; "ok"

As a Redis-triggered component (`fermyon:spin/inbound-redis`), each message is appended to
the default store's `redis-messages` (one per line); `fail` returns the interface's error
and `trap` traps, after being recorded.
"""

import encodings.idna  # CPython's socket module encodes host names with it
import json
import random
import re
import socket

import pgjson
from spin_sdk import http, key_value, llm, mqtt, mysql, redis, variables
from spin_sdk.wit.imports import rdbms_types
from spin_sdk.wit.imports import postgres as pg2
from spin_sdk.wit.imports import spin_postgres_postgres_3_0_0 as pg3
from spin_sdk.wit.imports import spin_postgres_postgres_4_0_0 as pg4
from spin_sdk.wit import exports
from spin_sdk.wit.imports.redis_types import Error as RedisTypesError
from spin_sdk.wit.imports import redis as redis2
# spin-sdk 3.4.1's own `sqlite` module names bindings componentize-py 0.17.2 does not
# generate, so the interfaces are used directly.
from spin_sdk.wit.imports import fermyon_spin_sqlite as sqlite2, spin_sqlite_sqlite as sqlite3
from spin_sdk.http import Request, Response
from spin_sdk.wit.types import Err


def text(status: int, body) -> Response:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Response(status, {"content-type": "text/plain"}, body)


def to_value(m, p):
    if p is None:
        return m.Value_Null()
    if isinstance(p, bool) or isinstance(p, int):
        return m.Value_Integer(int(p))
    if isinstance(p, float):
        return m.Value_Real(p)
    if isinstance(p, dict):
        return m.Value_Blob(bytes.fromhex(p["blob"]))
    return m.Value_Text(p)


def from_value(m, v):
    if isinstance(v, m.Value_Null):
        return None
    if isinstance(v, m.Value_Blob):
        return {"blob": v.value.hex()}
    return v.value


def reply(m, r) -> str:
    if isinstance(r, m.RedisResult_Nil):
        return "nil"
    kind = type(r).__name__.split("_", 1)[1].lower()
    value = r.value.decode() if isinstance(r.value, bytes) else r.value
    return f"{kind}:{value}"


def redis_report(m, conn, p: str) -> list:
    """Every operation of the Redis interface; `m` is its bindings module."""
    out = []
    conn.set(f"{p}:k", b"v")
    out.append(f"get={conn.get(f'{p}:k').decode()}")
    out.append(f"missing={conn.get(f'{p}:missing')}")
    out.append(f"incr={conn.incr(f'{p}:n')},{conn.incr(f'{p}:n')}")
    out.append(f"sadd={conn.sadd(f'{p}:s', ['a', 'b'])}")
    out.append(f"smembers={','.join(sorted(conn.smembers(f'{p}:s')))}")
    out.append(f"srem={conn.srem(f'{p}:s', ['a'])}")
    out.append(f"del={conn.del_([f'{p}:k', f'{p}:n', f'{p}:nothing'])}")
    b = lambda s: m.RedisParameter_Binary(s.encode())
    out.append("exec-set=" + ",".join(reply(m, r) for r in conn.execute("SET", [b(f"{p}:e"), b("x")])))
    out.append("exec-get=" + ",".join(reply(m, r) for r in conn.execute("GET", [b(f"{p}:e")])))
    out.append("exec-incrby=" + ",".join(reply(m, r) for r in conn.execute("INCRBY", [b(f"{p}:i"), m.RedisParameter_Int64(5)])))
    conn.execute("RPUSH", [b(f"{p}:l"), b("one"), b("two")])
    out.append("exec-lrange=" + ",".join(reply(m, r) for r in conn.execute("LRANGE", [b(f"{p}:l"), m.RedisParameter_Int64(0), m.RedisParameter_Int64(-1)])))
    conn.publish(f"{p}:chan", b"hello")
    out.append("publish=ok")
    try:
        conn.incr(f"{p}:s")
        out.append("wrongtype=none")
    except Err as e:
        out.append(f"wrongtype={error_name(e.value)}")
    return out


def rdbms_param(m, p):
    """`[type, value]` as a parameter-value (`m` is the bindings module with its classes)."""
    kind = p[0]
    if kind == "null":
        return m.ParameterValue_DbNull()
    if kind == "binary":
        return m.ParameterValue_Binary(bytes.fromhex(p[1]))
    cls = getattr(m, "ParameterValue_" + kind[0].upper() + kind[1:])
    return cls(p[1])


def rdbms_value(v):
    """A db-value as `[case, value]` (binary as hex)."""
    kind = type(v).__name__.split("_", 1)[1].lower()
    if kind in ("dbnull", "unsupported"):
        return [kind]
    if kind == "binary":
        return [kind, v.value.hex()]
    return [kind, v.value]


def error_name(err) -> str:
    # spin_sdk error classes are named like `Error_AccessDenied`.
    name = type(err).__name__.removeprefix("Error_")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def db_write(op: str) -> Response:
    key = f"k{random.getrandbits(64):016x}"
    if op in ("kv", "all"):
        with key_value.open_default() as store:
            store.set(key, b"v")
    if op in ("sqlite", "all"):
        with sqlite2.Connection.open("default") as conn:
            conn.execute("INSERT INTO bench (v) VALUES (?)", [sqlite2.Value_Text(key)])
    if op in ("redis", "all"):
        with redis2.Connection.open(variables.get("redis_address")) as conn:
            conn.set(key, b"v")
    if op in ("pg", "all"):
        with pg4.Connection.open(variables.get("pg_address")) as conn:
            conn.execute("INSERT INTO bench (v) VALUES ($1)", [pg4.ParameterValue_Str(key)])
    return text(200, "ok")


def sockets(kind: str, target: str) -> Response:
    host, _, port = target.rpartition(":")
    step = "resolve"
    try:
        family, _, _, _, address = socket.getaddrinfo(host, int(port))[0]
        # wasi-libc's getaddrinfo leaves the port at 0.
        address = (address[0], int(port), *address[2:])
        step = "connect"
        if kind == "tcp":
            s = socket.socket(family, socket.SOCK_STREAM)
            s.connect(address)
            step = "send"
            s.sendall(b"ping\n")
            step = "receive"
            data = s.recv(100)
        else:
            s = socket.socket(family, socket.SOCK_DGRAM)
            step = "send"
            s.sendto(b"ping\n", address)
            step = "receive"
            data = s.recv(100)
        s.close()
        return text(200, data)
    except OSError as e:
        return text(500, f"{step}: {type(e).__name__}")


PG = {"2": (pg2, rdbms_types), "3": (pg3, pg3), "4": (pg4, pg4)}


def postgres(version: str, q: dict) -> Response:
    m, t = PG[version]
    try:
        conn = m.Connection.open(q["address"])
        params = [pgjson.param(t, p) for p in q.get("params", [])]
        if not q.get("query"):
            return text(200, json.dumps({"affected": conn.execute(q["sql"], params)}))
        rs = conn.query(q["sql"], params)
        return text(200, json.dumps(pgjson.rows(rs.columns, rs.rows)))
    except Err as e:
        return text(500, json.dumps(pgjson.error(e.value, error_name(e.value))))


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path = request.headers.get("spin-path-info", "").strip("/")
        command, _, arg = path.partition("/")
        try:
            if command == "hello":
                return text(200, "Hello from Python!\n")
            if command == "llm":
                llm.infer("llama2-chat", "hello")
                return text(200, "unreachable: llm is not provided")
            if command == "db":
                return db_write(arg)
            if command in ("tcp", "udp"):
                return sockets(command, request.uri.partition("?")[2])
            if command == "pg":
                return postgres(arg, json.loads(request.body))
            if command == "mysql":
                q = json.loads(request.body)
                conn = mysql.open(q["address"])
                params = [rdbms_param(rdbms_types, p) for p in q.get("params", [])]
                if not q.get("query"):
                    conn.execute(q["sql"], params)
                    return text(200, "ok")
                rs = conn.query(q["sql"], params)
                return text(200, json.dumps({
                    "columns": [[c.name, c.data_type.name.lower()] for c in rs.columns],
                    "rows": [[rdbms_value(v) for v in row] for row in rs.rows],
                }))
            if command == "mqtt":
                q = json.loads(request.body)
                conn = mqtt.open(q["address"], q.get("username", ""), q.get("password", ""), 30)
                conn.publish(q["topic"], q["payload"].encode(), mqtt.Qos(q.get("qos", 1)))
                return text(200, "ok")
            if command == "redis":
                conn = redis.open(request.uri.partition("?")[2])
                return text(200, "\n".join(redis_report(redis2, conn, "p2")))
            if command == "var":
                return text(200, variables.get(arg))
            if command in ("sql", "sql3"):
                m = sqlite2 if command == "sql" else sqlite3
                query = json.loads(request.body)
                with m.Connection.open(arg) as conn:
                    params = [to_value(m, p) for p in query.get("params", [])]
                    result = conn.execute(query["sql"], params)
                    v3 = m is sqlite3
                    return text(200, json.dumps({
                        "columns": result.columns,
                        "rows": [[from_value(m, v) for v in row.values] for row in result.rows],
                        "last_insert_rowid": conn.last_insert_rowid() if v3 else None,
                        "changes": conn.changes() if v3 else None,
                    }))
            if command == "store":
                with key_value.open(arg):
                    return text(200, "ok")
            with key_value.open_default() as store:
                if command == "kv":
                    if request.method == "PUT":
                        store.set(arg, request.body or b"")
                        return text(200, "ok")
                    if request.method == "DELETE":
                        store.delete(arg)
                        return text(200, "ok")
                    value = store.get(arg)
                    if value is None:
                        return text(404, "not found")
                    return Response(200, {"content-type": "application/octet-stream"}, value)
                if command == "exists":
                    return text(200, "true" if store.exists(arg) else "false")
                if command == "keys":
                    return text(200, "\n".join(sorted(store.get_keys())))
            return text(404, "no such test route")
        except Err as e:
            return text(500, error_name(e.value))


class InboundRedis(exports.InboundRedis):
    def handle_message(self, message: bytes) -> None:
        with key_value.open_default() as store:
            seen = store.get("redis-messages") or b""
            store.set("redis-messages", seen + message + b"\n")
        if message == b"fail":
            raise Err(RedisTypesError.ERROR)
        if message == b"trap":
            raise RuntimeError("trap requested")
