// The database routes of spin-v1.c: Spin 1.x's unversioned `postgres`, `mysql` and `sqlite`
// (the same functions the pre-component ABI's `outbound-pg`, `outbound-mysql` and `sqlite`
// imports are). Each appends one line per call to `out`: "name=result" or
// "name=error N: message".
#include "spin-v1-db.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef fermyon_spin_rdbms_types_parameter_value_t param_t;
typedef fermyon_spin_rdbms_types_db_value_t db_value_t;

static spin_v1_guest_string_t s(const char *text) {
  spin_v1_guest_string_t out = {(uint8_t *)text, strlen(text)};
  return out;
}

__attribute__((format(printf, 3, 4))) static void add(char *out, size_t size, const char *fmt, ...) {
  size_t used = strlen(out);
  if (used && used < size - 1) out[used++] = '\n', out[used] = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out + used, size - used, fmt, ap);
  va_end(ap);
}

/// "tag: message" of an rdbms error (pg-error and mysql-error have the same cases).
static void add_error(char *out, size_t size, const char *name, uint8_t tag,
                      spin_v1_guest_string_t *message) {
  if (tag == 0) {
    add(out, size, "%s=error 0", name);
  } else {
    add(out, size, "%s=error %u: %.*s", name, tag, (int)message->len, (char *)message->ptr);
  }
}

/// One value as text: "tag:value".
static int render(char *buf, size_t size, const db_value_t *v) {
  switch (v->tag) {
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_BOOLEAN: return snprintf(buf, size, "bool:%d", v->val.boolean);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_INT8: return snprintf(buf, size, "i8:%d", v->val.int8);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_INT16: return snprintf(buf, size, "i16:%d", v->val.int16);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_INT32: return snprintf(buf, size, "i32:%" PRId32, v->val.int32);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_INT64: return snprintf(buf, size, "i64:%" PRId64, v->val.int64);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_UINT8: return snprintf(buf, size, "u8:%u", v->val.uint8);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_UINT16: return snprintf(buf, size, "u16:%u", v->val.uint16);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_UINT32: return snprintf(buf, size, "u32:%" PRIu32, v->val.uint32);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_UINT64: return snprintf(buf, size, "u64:%" PRIu64, v->val.uint64);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_FLOATING32: return snprintf(buf, size, "f32:%g", v->val.floating32);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_FLOATING64: return snprintf(buf, size, "f64:%g", v->val.floating64);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_STR:
    return snprintf(buf, size, "str:%.*s", (int)v->val.str.len, (char *)v->val.str.ptr);
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_BINARY: {
    int n = snprintf(buf, size, "bin:");
    for (size_t i = 0; i < v->val.binary.len && (size_t)n + 3 < size; i++)
      n += snprintf(buf + n, size - n, "%02x", v->val.binary.ptr[i]);
    return n;
  }
  case FERMYON_SPIN_RDBMS_TYPES_DB_VALUE_DB_NULL: return snprintf(buf, size, "null");
  default: return snprintf(buf, size, "unsupported");
  }
}

/// "columns=name:type,..." then "row=v,v,..." per row.
static void add_row_set(char *out, size_t size, const fermyon_spin_rdbms_types_row_set_t *set) {
  char line[512] = "";
  size_t n = 0;
  for (size_t i = 0; i < set->columns.len; i++) {
    fermyon_spin_rdbms_types_column_t *c = &set->columns.ptr[i];
    n += snprintf(line + n, sizeof line - n, "%s%.*s:%u", i ? "," : "", (int)c->name.len,
                  (char *)c->name.ptr, c->data_type);
  }
  add(out, size, "columns=%s", line);
  for (size_t r = 0; r < set->rows.len; r++) {
    n = 0;
    line[0] = 0;
    for (size_t i = 0; i < set->rows.ptr[r].len && n < sizeof line; i++) {
      if (i) line[n++] = ',';
      n += render(line + n, sizeof line - n, &set->rows.ptr[r].ptr[i]);
    }
    add(out, size, "row=%s", line);
  }
}

static const char *PG_CREATE =
    "CREATE TABLE v1 (id INT4, name TEXT, big INT8, f FLOAT8, ok BOOL, data BYTEA, small INT2, "
    "r REAL, d DATE)";

void pg_report(spin_v1_guest_string_t *address, char *out, size_t size) {
  fermyon_spin_postgres_pg_error_t err;
  uint64_t changed;
  fermyon_spin_postgres_list_parameter_value_t none = {NULL, 0};
  spin_v1_guest_string_t sql = s("DROP TABLE IF EXISTS v1");
  if (!fermyon_spin_postgres_execute(address, &sql, &none, &changed, &err)) {
    add_error(out, size, "drop", err.tag, &err.val.connection_failed);
    return;
  }
  sql = s(PG_CREATE);
  bool ok = fermyon_spin_postgres_execute(address, &sql, &none, &changed, &err);
  if (!ok) add_error(out, size, "create", err.tag, &err.val.connection_failed);
  param_t p[9];
  memset(p, 0, sizeof p);
  p[0].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_INT32, p[0].val.int32 = 1;
  p[1].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_STR, p[1].val.str = s("one ✓");
  p[2].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_INT64, p[2].val.int64 = -(1LL << 40);
  p[3].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_FLOATING64, p[3].val.floating64 = 2.25;
  p[4].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_BOOLEAN, p[4].val.boolean = true;
  p[5].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_BINARY;
  p[5].val.binary = (spin_v1_guest_list_u8_t){(uint8_t *)"\x00\xff\x10", 3};
  p[6].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_INT16, p[6].val.int16 = -7;
  p[7].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_FLOATING32, p[7].val.floating32 = 1.5f;
  p[8].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_DB_NULL;
  fermyon_spin_postgres_list_parameter_value_t params = {p, 9};
  sql = s("INSERT INTO v1 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL), (2, NULL, $9, NULL, "
          "NULL, NULL, NULL, NULL, '2026-12-08')");
  ok = fermyon_spin_postgres_execute(address, &sql, &params, &changed, &err);
  if (ok) add(out, size, "insert=%" PRIu64, changed);
  else add_error(out, size, "insert", err.tag, &err.val.connection_failed);
  // A transaction across calls: the request's calls share one connection.
  sql = s("BEGIN");
  fermyon_spin_postgres_execute(address, &sql, &none, &changed, &err);
  sql = s("DELETE FROM v1");
  fermyon_spin_postgres_execute(address, &sql, &none, &changed, &err);
  sql = s("ROLLBACK");
  fermyon_spin_postgres_execute(address, &sql, &none, &changed, &err);
  fermyon_spin_postgres_row_set_t set;
  sql = s("SELECT * FROM v1 ORDER BY id");
  if (fermyon_spin_postgres_query(address, &sql, &none, &set, &err)) add_row_set(out, size, &set);
  else add_error(out, size, "select", err.tag, &err.val.connection_failed);
  sql = s("SELECT * FROM nowhere");
  if (!fermyon_spin_postgres_query(address, &sql, &none, &set, &err))
    add_error(out, size, "bad", err.tag, &err.val.connection_failed);
}

void mysql_report(spin_v1_guest_string_t *address, char *out, size_t size) {
  fermyon_spin_mysql_mysql_error_t err;
  fermyon_spin_mysql_list_parameter_value_t none = {NULL, 0};
  spin_v1_guest_string_t sql = s("DROP TABLE IF EXISTS v1");
  if (!fermyon_spin_mysql_execute(address, &sql, &none, &err)) {
    add_error(out, size, "drop", err.tag, &err.val.connection_failed);
    return;
  }
  sql = s("CREATE TABLE v1 (id INT, name TEXT, big BIGINT, f DOUBLE, small TINYINT, "
          "u INT UNSIGNED, data BLOB, n INT) DEFAULT CHARSET=utf8mb4");
  if (!fermyon_spin_mysql_execute(address, &sql, &none, &err))
    add_error(out, size, "create", err.tag, &err.val.connection_failed);
  param_t p[8];
  memset(p, 0, sizeof p);
  p[0].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_INT32, p[0].val.int32 = 1;
  p[1].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_STR, p[1].val.str = s("one ✓");
  p[2].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_INT64, p[2].val.int64 = -(1LL << 40);
  p[3].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_FLOATING64, p[3].val.floating64 = 2.25;
  p[4].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_INT8, p[4].val.int8 = -7;
  p[5].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_UINT32, p[5].val.uint32 = 4000000000u;
  p[6].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_BINARY;
  p[6].val.binary = (spin_v1_guest_list_u8_t){(uint8_t *)"\x00\xff\x10", 3};
  p[7].tag = FERMYON_SPIN_RDBMS_TYPES_PARAMETER_VALUE_DB_NULL;
  fermyon_spin_mysql_list_parameter_value_t params = {p, 8};
  sql = s("INSERT INTO v1 VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (fermyon_spin_mysql_execute(address, &sql, &params, &err)) add(out, size, "insert=ok");
  else add_error(out, size, "insert", err.tag, &err.val.connection_failed);
  fermyon_spin_mysql_row_set_t set;
  sql = s("SELECT * FROM v1 WHERE id = ?");
  fermyon_spin_mysql_list_parameter_value_t one = {p, 1};
  if (fermyon_spin_mysql_query(address, &sql, &one, &set, &err)) add_row_set(out, size, &set);
  else add_error(out, size, "select", err.tag, &err.val.connection_failed);
  sql = s("SELECT * FROM nowhere");
  if (!fermyon_spin_mysql_query(address, &sql, &none, &set, &err))
    add_error(out, size, "bad", err.tag, &err.val.connection_failed);
}

static void add_sqlite_error(char *out, size_t size, const char *name,
                             fermyon_spin_sqlite_error_t *err) {
  if (err->tag == FERMYON_SPIN_SQLITE_ERROR_IO) {
    add(out, size, "%s=error %u: %.*s", name, err->tag, (int)err->val.io.len,
        (char *)err->val.io.ptr);
  } else {
    add(out, size, "%s=error %u", name, err->tag);
  }
}

void sqlite_report(char *out, size_t size) {
  fermyon_spin_sqlite_error_t err;
  fermyon_spin_sqlite_connection_t conn;
  spin_v1_guest_string_t name = s("secret");
  if (fermyon_spin_sqlite_open(&name, &conn, &err)) add(out, size, "secret=opened?");
  else add_sqlite_error(out, size, "secret", &err);
  name = s("default");
  if (!fermyon_spin_sqlite_open(&name, &conn, &err)) {
    add_sqlite_error(out, size, "open", &err);
    return;
  }
  fermyon_spin_sqlite_query_result_t result;
  fermyon_spin_sqlite_list_value_t none = {NULL, 0};
  spin_v1_guest_string_t sql =
      s("CREATE TABLE IF NOT EXISTS v1 (i INTEGER, r REAL, t TEXT, b BLOB, n)");
  if (!fermyon_spin_sqlite_execute(conn, &sql, &none, &result, &err))
    add_sqlite_error(out, size, "create", &err);
  fermyon_spin_sqlite_value_t v[5];
  memset(v, 0, sizeof v);
  v[0].tag = FERMYON_SPIN_SQLITE_VALUE_INTEGER, v[0].val.integer = -(1LL << 40);
  v[1].tag = FERMYON_SPIN_SQLITE_VALUE_REAL, v[1].val.real = 2.25;
  v[2].tag = FERMYON_SPIN_SQLITE_VALUE_TEXT, v[2].val.text = s("text ✓");
  v[3].tag = FERMYON_SPIN_SQLITE_VALUE_BLOB;
  v[3].val.blob = (spin_v1_guest_list_u8_t){(uint8_t *)"\x00\xff", 2};
  v[4].tag = FERMYON_SPIN_SQLITE_VALUE_NULL;
  fermyon_spin_sqlite_list_value_t params = {v, 5};
  sql = s("INSERT INTO v1 VALUES (?, ?, ?, ?, ?)");
  if (!fermyon_spin_sqlite_execute(conn, &sql, &params, &result, &err))
    add_sqlite_error(out, size, "insert", &err);
  sql = s("SELECT count(*) AS c, i, r, t, hex(b), n FROM v1");
  if (fermyon_spin_sqlite_execute(conn, &sql, &none, &result, &err)) {
    char line[256] = "";
    size_t n = 0;
    for (size_t i = 0; i < result.columns.len; i++)
      n += snprintf(line + n, sizeof line - n, "%s%.*s", i ? "," : "",
                    (int)result.columns.ptr[i].len, (char *)result.columns.ptr[i].ptr);
    add(out, size, "columns=%s", line);
    for (size_t r = 0; r < result.rows.len; r++) {
      fermyon_spin_sqlite_list_value_t *row = &result.rows.ptr[r].values;
      n = 0;
      line[0] = 0;
      for (size_t i = 0; i < row->len; i++) {
        fermyon_spin_sqlite_value_t *x = &row->ptr[i];
        const char *sep = i ? "," : "";
        switch (x->tag) {
        case FERMYON_SPIN_SQLITE_VALUE_INTEGER:
          n += snprintf(line + n, sizeof line - n, "%sint:%" PRId64, sep, x->val.integer);
          break;
        case FERMYON_SPIN_SQLITE_VALUE_REAL:
          n += snprintf(line + n, sizeof line - n, "%sreal:%g", sep, x->val.real);
          break;
        case FERMYON_SPIN_SQLITE_VALUE_TEXT:
          n += snprintf(line + n, sizeof line - n, "%stext:%.*s", sep, (int)x->val.text.len,
                        (char *)x->val.text.ptr);
          break;
        case FERMYON_SPIN_SQLITE_VALUE_BLOB:
          n += snprintf(line + n, sizeof line - n, "%sblob:%zu", sep, x->val.blob.len);
          break;
        default:
          n += snprintf(line + n, sizeof line - n, "%snull", sep);
        }
      }
      add(out, size, "row=%s", line);
    }
  } else {
    add_sqlite_error(out, size, "select", &err);
  }
  sql = s("SELECT * FROM nowhere");
  if (!fermyon_spin_sqlite_execute(conn, &sql, &none, &result, &err))
    add_sqlite_error(out, size, "bad", &err);
  fermyon_spin_sqlite_close(conn);
  if (!fermyon_spin_sqlite_execute(conn, &sql, &none, &result, &err))
    add_sqlite_error(out, size, "closed", &err);
}
