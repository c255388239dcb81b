"""Test guest on Spin 4's Python SDK (WASI P3): built twice by tests/setup.sh, with
spin-sdk 5.0.0 + componentize-py 0.25.1 (`wasi:http/handler@0.3.0`) and with spin-sdk
4.0.0 + componentize-py 0.23.0 (`wasi:http/handler@0.3.0-rc-2026-03-15`).

Routes (below the component's route prefix, read from `spin-path-info`):
  /hello              greeting
  /kv/<key>           GET value (404 if absent), PUT body, DELETE
  /exists/<key>       "true" or "false"
  /keys               the default store's keys (get-keys, a stream), sorted, one per line
  /store/<label>      open a store by label: "ok" or the error name
  /var/<name>         a component variable, or the error name
  /fetch?<url>        GET <url> through wasi:http/client: "<status> <body>" or the error
  /sql/<database>     POST {"sql": ..., "params": [...]} to spin:sqlite@3.1.0 (rows as a
                      stream): {"columns", "rows", "last_insert_rowid", "changes"} or the error
  /redis?<address>    spin:redis@3.0.0: every operation on keys prefixed `p3:`, one line
                      each, or the error of `open`
  /mqtt               POST {"address", "username", "password", "topic", "payload", "qos"}:
                      spin:mqtt@3.0.0 open + publish: "ok" or the error
  /mysql              POST {"address", "sql", "params": [[type, value], ...], "query": bool}:
                      spin:mysql@3.0.0 (rows streamed): {"columns", "rows"} or the error
  /pg                 POST {"address", "sql", "params", "query", "ca"} through spin:postgres@4.2.0's
                      async functions (with a connection-builder when "ca" is given):
                      {"columns", "rows"} or {"affected"}; an error as {"error", "message", ...}
  /llm                call an interface the runtime does not provide: its error
  /db/<kv|sqlite|redis|pg|all>  one write of a new key (bench/databases.sh): to the default
                      store, SQLite's `default` table `bench`, Redis at the variable
                      `redis_address`, PostgreSQL's table `bench` at `pg_address`; "ok"
"""

import json
import random
import re

from componentize_py_types import Err
import pgjson
from spin_sdk import http, key_value, llm, mqtt, redis, sqlite, util, variables
from spin_sdk.wit.imports import spin_postgres_postgres_4_2_0 as pg4

try:
    from spin_sdk import mysql
    from spin_sdk.wit.imports import spin_mysql_mysql_3_0_0 as mysql3
except ImportError:  # spin:up@4.0.0 (spin-sdk 4.0.0) has no spin:mysql
    mysql = mysql3 = None
from spin_sdk.wit.imports import spin_mqtt_mqtt_3_0_0 as mqtt3
from spin_sdk.wit.imports import spin_redis_redis_3_0_0 as redis3
from spin_sdk.http import Request, Response


def text(status: int, body) -> Response:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Response(status, {"content-type": "text/plain"}, body)


def to_value(p):
    if p is None:
        return sqlite.sqlite.Value_Null()
    if isinstance(p, bool) or isinstance(p, int):
        return sqlite.Value_Integer(int(p))
    if isinstance(p, float):
        return sqlite.Value_Real(p)
    if isinstance(p, dict):
        return sqlite.Value_Blob(bytes.fromhex(p["blob"]))
    return sqlite.Value_Text(p)


def from_value(v):
    if isinstance(v, sqlite.sqlite.Value_Null):
        return None
    if isinstance(v, sqlite.Value_Blob):
        return {"blob": v.value.hex()}
    return v.value


def reply(r) -> str:
    if isinstance(r, redis3.RedisResult_Nil):
        return "nil"
    kind = type(r).__name__.split("_", 1)[1].lower()
    value = r.value.decode() if isinstance(r.value, bytes) else r.value
    return f"{kind}:{value}"


async def redis_report(conn, p: str) -> list:
    """Every operation of spin:redis@3.0.0."""
    m = redis3
    out = []
    await conn.set(f"{p}:k", b"v")
    out.append(f"get={(await conn.get(f'{p}:k')).decode()}")
    out.append(f"missing={await conn.get(f'{p}:missing')}")
    out.append(f"incr={await conn.incr(f'{p}:n')},{await conn.incr(f'{p}:n')}")
    out.append(f"sadd={await conn.sadd(f'{p}:s', ['a', 'b'])}")
    out.append(f"smembers={','.join(sorted(await conn.smembers(f'{p}:s')))}")
    out.append(f"srem={await conn.srem(f'{p}:s', ['a'])}")
    out.append(f"del={await conn.del_([f'{p}:k', f'{p}:n', f'{p}:nothing'])}")
    b = lambda s: m.RedisParameter_Binary(s.encode())
    out.append("exec-set=" + ",".join(reply(r) for r in await conn.execute("SET", [b(f"{p}:e"), b("x")])))
    out.append("exec-get=" + ",".join(reply(r) for r in await conn.execute("GET", [b(f"{p}:e")])))
    out.append("exec-incrby=" + ",".join(reply(r) for r in await conn.execute("INCRBY", [b(f"{p}:i"), m.RedisParameter_Int64(5)])))
    await conn.execute("RPUSH", [b(f"{p}:l"), b("one"), b("two")])
    out.append("exec-lrange=" + ",".join(reply(r) for r in await conn.execute("LRANGE", [b(f"{p}:l"), m.RedisParameter_Int64(0), m.RedisParameter_Int64(-1)])))
    await conn.publish(f"{p}:chan", b"hello")
    out.append("publish=ok")
    try:
        await conn.incr(f"{p}:s")
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
    # Error classes are named like `Error_AccessDenied` or `ErrorCode_HttpRequestDenied`.
    name = type(err).__name__.split("_", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


async def db_write(op: str) -> Response:
    key = f"k{random.getrandbits(64):016x}"
    if op in ("kv", "all"):
        with await key_value.open_default() as store:
            await store.set(key, b"v")
    if op in ("sqlite", "all"):
        with await sqlite.Connection.open("default") as conn:
            _, rows, done = await conn.execute("INSERT INTO bench (v) VALUES (?)", [sqlite.Value_Text(key)])
            await util.collect((rows, done))
    if op in ("redis", "all"):
        with await redis.open(await variables.get("redis_address")) as conn:
            await conn.set(key, b"v")
    if op in ("pg", "all"):
        with await pg4.Connection.open_async(await variables.get("pg_address")) as conn:
            await conn.execute_async("INSERT INTO bench (v) VALUES ($1)", [pg4.ParameterValue_Str(key)])
    return text(200, "ok")


async def postgres(q: dict) -> Response:
    try:
        if q.get("ca"):
            builder = pg4.ConnectionBuilder(q["address"])
            builder.set_ca_root(q["ca"])
            conn = await builder.build_async()
        else:
            conn = await pg4.Connection.open_async(q["address"])
        params = [pgjson.param(pg4, p) for p in q.get("params", [])]
        if not q.get("query"):
            affected = await conn.execute_async(q["sql"], params)
            return text(200, json.dumps({"affected": affected}))
        columns, rows, done = await conn.query_async(q["sql"], params)
        rows = await util.collect((rows, done))
        return text(200, json.dumps(pgjson.rows(columns, rows)))
    except Err as e:
        return text(500, json.dumps(pgjson.error(e.value, error_name(e.value))))


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        path = request.headers.get("spin-path-info", "").strip("/")
        command, _, arg = path.partition("/")
        try:
            if command == "hello":
                return text(200, "Hello from Spin 4 Python!\n")
            if command == "db":
                return await db_write(arg)
            if command == "var":
                return text(200, await variables.get(arg))
            if command == "fetch":
                url = request.uri.partition("?")[2]
                response = await http.send(Request("GET", url, {}, None))
                return text(200, f"{response.status} {(response.body or b'').decode()}")
            if command == "sql":
                query = json.loads(request.body)
                with await sqlite.Connection.open(arg) as conn:
                    params = [to_value(p) for p in query.get("params", [])]
                    columns, rows, done = await conn.execute(query["sql"], params)
                    rows = await util.collect((rows, done))
                    return text(200, json.dumps({
                        "columns": columns,
                        "rows": [[from_value(v) for v in row.values] for row in rows],
                        "last_insert_rowid": await conn.last_insert_rowid(),
                        "changes": await conn.changes(),
                    }))
            if command == "redis":
                conn = await redis.open(request.uri.partition("?")[2])
                return text(200, "\n".join(await redis_report(conn, "p3")))
            if command == "llm":
                llm.infer("llama2-chat", "hello")
                return text(200, "unreachable: llm is not provided")
            if command == "pg":
                return await postgres(json.loads(request.body))
            if command == "mysql":
                q = json.loads(request.body)
                conn = await mysql.open(q["address"])
                params = [rdbms_param(mysql3, p) for p in q.get("params", [])]
                if not q.get("query"):
                    await conn.execute(q["sql"], params)
                    return text(200, "ok")
                columns, rows, done = await conn.query(q["sql"], params)
                rows = await util.collect((rows, done))
                return text(200, json.dumps({
                    "columns": [[c.name, c.data_type.name.lower()] for c in columns],
                    "rows": [[rdbms_value(v) for v in row] for row in rows],
                }))
            if command == "mqtt":
                q = json.loads(request.body)
                conn = await mqtt.open(q["address"], q.get("username", ""), q.get("password", ""), 30)
                await conn.publish(q["topic"], q["payload"].encode(), mqtt3.Qos(q.get("qos", 1)))
                return text(200, "ok")
            if command == "store":
                with await key_value.open(arg):
                    return text(200, "ok")
            with await key_value.open_default() as store:
                if command == "kv":
                    if request.method == "PUT":
                        await store.set(arg, request.body or b"")
                        return text(200, "ok")
                    if request.method == "DELETE":
                        await store.delete(arg)
                        return text(200, "ok")
                    value = await store.get(arg)
                    if value is None:
                        return text(404, "not found")
                    return Response(200, {"content-type": "application/octet-stream"}, value)
                if command == "exists":
                    return text(200, "true" if await store.exists(arg) else "false")
                if command == "keys":
                    keys = await util.collect(await store.get_keys())
                    return text(200, "\n".join(sorted(keys)))
            return text(404, "no such test route")
        except Err as e:
            return text(500, error_name(e.value))
