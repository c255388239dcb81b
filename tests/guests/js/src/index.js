// Test guest built with the Spin JavaScript toolchain: hello, key/value, variables, and
// the database interfaces of `fermyon:spin@2.0.0`.
// Routes (below the component's route prefix, read from `spin-path-info`):
//   /hello, /kv/<key> (GET, PUT, DELETE), /exists/<key>, /keys, /store/<label>, /var/<name>
//   /pg, /mysql   POST {"address", "sql", "params": [[case, value], ...], "query": bool}:
//                 {"columns", "rows"} or {"affected"}; an error as {"error", "message"}
//   /sql/<db>     POST {"sql", "params": [[case, value], ...]} to SQLite: {"columns", "rows"}
//   /redis?<address>  set, get, incr, del, sadd, smembers, srem on keys prefixed `js:`
//   /mqtt         POST {"address", "username", "password", "topic", "payload", "qos"}
import { Store } from 'fermyon:spin/key-value@2.0.0';
import { get as getVariable } from 'fermyon:spin/variables@2.0.0';
import { Connection as Postgres } from 'fermyon:spin/postgres@2.0.0';
import { Connection as Mysql } from 'fermyon:spin/mysql@2.0.0';
import { Connection as Sqlite } from 'fermyon:spin/sqlite@2.0.0';
import { Connection as Redis } from 'fermyon:spin/redis@2.0.0';
import { Connection as Mqtt } from 'fermyon:spin/mqtt@2.0.0';

function text(status, body) {
  return new Response(body, { status, headers: { 'content-type': 'text/plain' } });
}

// WIT errors arrive as exceptions whose `payload` is the variant, e.g. { tag: 'access-denied' }.
function errorName(e) {
  return e && e.payload && e.payload.tag ? e.payload.tag : String(e);
}

function fromHex(hex) {
  return Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));
}

const WIDE = new Set(['int64', 'uint64', 'integer']);

// `[case, value]` as a WIT variant (`{ tag, val }`); 64-bit integers are BigInts, and
// `null` is the interface's null case (`db-null` in `rdbms-types`).
function variant([tag, val], nullTag = 'db-null') {
  if (tag === 'null' || tag === 'db-null') return { tag: nullTag };
  if (tag === 'binary' || tag === 'blob') return { tag, val: fromHex(val) };
  if (WIDE.has(tag)) return { tag, val: BigInt(val) };
  return { tag, val };
}

// A WIT value as JSON: BigInts as numbers (as strings beyond 2^53), bytes as hex.
function plain(v) {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (ArrayBuffer.isView(v)) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function cell(v) {
  return v.val === undefined ? [v.tag] : [v.tag, plain(v.val)];
}

function json(status, value) {
  return text(status, JSON.stringify(value));
}

function rdbms(Connection, q) {
  const conn = Connection.open(q.address);
  const params = (q.params || []).map((p) => variant(p));
  if (!q.query) {
    const affected = conn.execute(q.sql, params);
    return json(200, { affected: affected === undefined ? null : plain(affected) });
  }
  const rs = conn.query(q.sql, params);
  return json(200, {
    columns: rs.columns.map((c) => [c.name, c.dataType]),
    rows: rs.rows.map((row) => row.map(cell)),
  });
}

function redisReport(conn) {
  const out = [];
  const enc = (s) => new TextEncoder().encode(s);
  conn.set('js:k', enc('v'));
  out.push(`get=${new TextDecoder().decode(conn.get('js:k'))}`);
  out.push(`incr=${conn.incr('js:n')}`);
  out.push(`sadd=${conn.sadd('js:s', ['a', 'b'])}`);
  out.push(`smembers=${conn.smembers('js:s').sort().join(',')}`);
  out.push(`srem=${conn.srem('js:s', ['a'])}`);
  out.push(`del=${conn.del(['js:k', 'js:n', 'js:s'])}`);
  out.push(`missing=${conn.get('js:k') === undefined ? 'none' : 'some'}`);
  return out.join('\n');
}

async function handle(request) {
  const path = (request.headers.get('spin-path-info') || '').replace(/^\/+|\/+$/g, '');
  const slash = path.indexOf('/');
  const command = slash < 0 ? path : path.slice(0, slash);
  const arg = slash < 0 ? '' : path.slice(slash + 1);
  try {
    if (command === 'hello') return text(200, 'Hello from JavaScript!\n');
    if (command === 'pg' || command === 'mysql') {
      const q = await request.json();
      try {
        return rdbms(command === 'pg' ? Postgres : Mysql, q);
      } catch (e) {
        return json(500, { error: errorName(e), message: e.payload && e.payload.val });
      }
    }
    if (command === 'sql') {
      const q = await request.json();
      const conn = Sqlite.open(arg);
      const result = conn.execute(q.sql, (q.params || []).map((p) => variant(p, 'null')));
      return json(200, { columns: result.columns, rows: result.rows.map((r) => r.values.map(cell)) });
    }
    if (command === 'redis') {
      return text(200, redisReport(Redis.open(new URL(request.url).search.slice(1))));
    }
    if (command === 'mqtt') {
      const q = await request.json();
      const conn = Mqtt.open(q.address, q.username || '', q.password || '', 30n);
      const qos = ['at-most-once', 'at-least-once', 'exactly-once'][q.qos ?? 1];
      conn.publish(q.topic, new TextEncoder().encode(q.payload), qos);
      return text(200, 'ok');
    }
    if (command === 'var') return text(200, getVariable(arg));
    if (command === 'store') {
      Store.open(arg);
      return text(200, 'ok');
    }
    const store = Store.open('default');
    if (command === 'kv') {
      if (request.method === 'PUT') {
        store.set(arg, new Uint8Array(await request.arrayBuffer()));
        return text(200, 'ok');
      }
      if (request.method === 'DELETE') {
        store.delete(arg);
        return text(200, 'ok');
      }
      const value = store.get(arg);
      if (value === undefined || value === null) return text(404, 'not found');
      return new Response(value, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    }
    if (command === 'exists') return text(200, store.exists(arg) ? 'true' : 'false');
    if (command === 'keys') return text(200, store.getKeys().sort().join('\n'));
    return text(404, 'no such test route');
  } catch (e) {
    return text(500, errorName(e));
  }
}

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));
