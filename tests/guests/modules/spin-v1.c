// A guest of Spin's unversioned `fermyon:spin` interfaces, as Spin 1.x SDKs built with
// wit-bindgen 0.5+ (and Spin 2's Go SDK) made them: it exports `inbound-http` and is
// built as a wasm32-wasi core module with wit-bindgen's component type section, which the
// runtime componentizes at load. The request path picks what it does:
//
//   /v1/hello       200 "Hello from Spin's own interface!"
//   /v1/config      config `greeting`: 200 + value, or 500 + the error's message
//   /v1/kv          default store: set "k" = body, get "k": 200 + value (500 + tag on error)
//   /v1/missing     default store: get "nope": 500 + "error 4" (no-such-key)
//   /v1/denied      open "secret": 500 + "error 2" (access-denied)
//   /v1/outbound    send-request GET <body>: the upstream status and body, or 502 + "error N"
//   /v1/echo        200, body = uri, header x-path-info = the spin-path-info header
//   /v1/redis       outbound Redis at the address in the body, on keys `v1:*`: set, get,
//                   incr, sadd, smembers, srem, del, execute, publish; one line each
//                   ("name=result", or "name=error N")
//   /v1/pg          outbound PostgreSQL at the address in the body (spin-v1-db.c)
//   /v1/mysql       outbound MySQL at the address in the body
//   /v1/sqlite      the default SQLite database
//
// Built twice (tests/guests/build.sh): as this componentized module, and as a module of the
// pre-component ABI (legacy-shim.c), whose imports are the same functions under their old
// names.
#include "spin-v1-db.h"
#include "spin_v1_guest.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static spin_v1_guest_string_t str(const char *s) {
  spin_v1_guest_string_t out = {(uint8_t *)s, strlen(s)};
  return out;
}

static void respond(exports_fermyon_spin_inbound_http_response_t *ret, uint16_t status,
                    const uint8_t *body, size_t len) {
  memset(ret, 0, sizeof *ret);
  ret->status = status;
  ret->body.is_some = true;
  ret->body.val.ptr = malloc(len ? len : 1);
  memcpy(ret->body.val.ptr, body, len);
  ret->body.val.len = len;
}

static void respond_text(exports_fermyon_spin_inbound_http_response_t *ret, uint16_t status,
                         const char *text) {
  respond(ret, status, (const uint8_t *)text, strlen(text));
}

static void respond_error(exports_fermyon_spin_inbound_http_response_t *ret, uint16_t status,
                          unsigned tag) {
  char text[32];
  snprintf(text, sizeof text, "error %u", tag);
  respond_text(ret, status, text);
}

/// Append "name=..." for a call that returned `ok`, else "name=error N".
static void line(char *out, size_t size, const char *name, bool ok, const char *value,
                 unsigned err) {
  size_t used = strlen(out);
  if (ok) {
    snprintf(out + used, size - used, "%s%s=%s", used ? "\n" : "", name, value);
  } else {
    snprintf(out + used, size - used, "%s%s=error %u", used ? "\n" : "", name, err);
  }
}

static void redis_report(spin_v1_guest_string_t *address, char *out, size_t size) {
  fermyon_spin_redis_error_t err;
  char value[128];
  spin_v1_guest_string_t k = str("v1:k"), n = str("v1:n"), set_key = str("v1:s");
  fermyon_spin_redis_payload_t v = {(uint8_t *)"v", 1}, got;
  bool ok = fermyon_spin_redis_set(address, &k, &v, &err);
  line(out, size, "set", ok, "ok", err);
  ok = fermyon_spin_redis_get(address, &k, &got, &err);
  snprintf(value, sizeof value, "%.*s", ok ? (int)got.len : 0, ok ? (char *)got.ptr : "");
  line(out, size, "get", ok, value, err);
  int64_t number;
  ok = fermyon_spin_redis_incr(address, &n, &number, &err);
  snprintf(value, sizeof value, "%lld", (long long)number);
  line(out, size, "incr", ok, value, err);
  spin_v1_guest_string_t members[2] = {str("a"), str("b")};
  spin_v1_guest_list_string_t values = {members, 2}, listed;
  ok = fermyon_spin_redis_sadd(address, &set_key, &values, &number, &err);
  snprintf(value, sizeof value, "%lld", (long long)number);
  line(out, size, "sadd", ok, value, err);
  ok = fermyon_spin_redis_smembers(address, &set_key, &listed, &err);
  snprintf(value, sizeof value, "%zu", ok ? listed.len : 0);
  line(out, size, "smembers", ok, value, err);
  values.len = 1;
  ok = fermyon_spin_redis_srem(address, &set_key, &values, &number, &err);
  snprintf(value, sizeof value, "%lld", (long long)number);
  line(out, size, "srem", ok, value, err);
  spin_v1_guest_string_t keys[3] = {k, n, str("v1:nothing")};
  spin_v1_guest_list_string_t key_list = {keys, 3};
  ok = fermyon_spin_redis_del(address, &key_list, &number, &err);
  snprintf(value, sizeof value, "%lld", (long long)number);
  line(out, size, "del", ok, value, err);
  fermyon_spin_redis_redis_parameter_t args[2];
  args[0].tag = FERMYON_SPIN_REDIS_TYPES_REDIS_PARAMETER_BINARY;
  args[0].val.binary = (fermyon_spin_redis_payload_t){(uint8_t *)"v1:e", 4};
  args[1].tag = FERMYON_SPIN_REDIS_TYPES_REDIS_PARAMETER_INT64;
  args[1].val.int64 = 5;
  fermyon_spin_redis_list_redis_parameter_t arg_list = {args, 2};
  fermyon_spin_redis_list_redis_result_t results;
  spin_v1_guest_string_t incrby = str("INCRBY");
  ok = fermyon_spin_redis_execute(address, &incrby, &arg_list, &results, &err);
  snprintf(value, sizeof value, "%zu:%lld", ok ? results.len : 0,
           ok && results.len == 1 && results.ptr[0].tag == FERMYON_SPIN_REDIS_TYPES_REDIS_RESULT_INT64
               ? (long long)results.ptr[0].val.int64
               : -1LL);
  line(out, size, "execute", ok, value, err);
  spin_v1_guest_string_t channel = str("v1:chan");
  fermyon_spin_redis_payload_t message = {(uint8_t *)"hello", 5};
  ok = fermyon_spin_redis_publish(address, &channel, &message, &err);
  line(out, size, "publish", ok, "ok", err);
}

static bool open_default(fermyon_spin_key_value_store_t *store,
                         exports_fermyon_spin_inbound_http_response_t *ret) {
  spin_v1_guest_string_t name = str("default");
  fermyon_spin_key_value_error_t err;
  if (!fermyon_spin_key_value_open(&name, store, &err)) {
    respond_error(ret, 500, err.tag);
    return false;
  }
  return true;
}

void exports_fermyon_spin_inbound_http_handle_request(
    exports_fermyon_spin_inbound_http_request_t *req,
    exports_fermyon_spin_inbound_http_response_t *ret) {
  char uri[512];
  size_t n = req->uri.len < sizeof uri - 1 ? req->uri.len : sizeof uri - 1;
  memcpy(uri, req->uri.ptr, n);
  uri[n] = 0;
  char *query = strchr(uri, '?');
  if (query) *query = 0;
  const uint8_t *body = req->body.is_some ? req->body.val.ptr : (const uint8_t *)"";
  size_t body_len = req->body.is_some ? req->body.val.len : 0;

  if (strcmp(uri, "/v1/hello") == 0) {
    respond_text(ret, 200, "Hello from Spin's own interface!");
  } else if (strcmp(uri, "/v1/config") == 0) {
    spin_v1_guest_string_t key = str("greeting"), value;
    fermyon_spin_config_error_t err;
    if (fermyon_spin_config_get_config(&key, &value, &err)) {
      respond(ret, 200, value.ptr, value.len);
    } else {
      respond(ret, 500, err.val.other.ptr, err.val.other.len);
    }
  } else if (strcmp(uri, "/v1/kv") == 0) {
    fermyon_spin_key_value_store_t store;
    if (!open_default(&store, ret)) return;
    spin_v1_guest_string_t key = str("k");
    spin_v1_guest_list_u8_t value = {(uint8_t *)body, body_len}, got;
    fermyon_spin_key_value_error_t err;
    if (!fermyon_spin_key_value_set(store, &key, &value, &err)) {
      respond_error(ret, 500, err.tag);
    } else if (!fermyon_spin_key_value_get(store, &key, &got, &err)) {
      respond_error(ret, 500, err.tag);
    } else {
      respond(ret, 200, got.ptr, got.len);
    }
    fermyon_spin_key_value_close(store);
  } else if (strcmp(uri, "/v1/missing") == 0) {
    fermyon_spin_key_value_store_t store;
    if (!open_default(&store, ret)) return;
    spin_v1_guest_string_t key = str("nope");
    spin_v1_guest_list_u8_t got;
    fermyon_spin_key_value_error_t err;
    if (fermyon_spin_key_value_get(store, &key, &got, &err)) {
      respond_text(ret, 200, "found?");
    } else {
      respond_error(ret, 500, err.tag);
    }
  } else if (strcmp(uri, "/v1/denied") == 0) {
    spin_v1_guest_string_t name = str("secret");
    fermyon_spin_key_value_store_t store;
    fermyon_spin_key_value_error_t err;
    if (fermyon_spin_key_value_open(&name, &store, &err)) {
      respond_text(ret, 200, "opened?");
    } else {
      respond_error(ret, 500, err.tag);
    }
  } else if (strcmp(uri, "/v1/outbound") == 0) {
    fermyon_spin_http_request_t out;
    memset(&out, 0, sizeof out);
    out.method = FERMYON_SPIN_HTTP_TYPES_METHOD_GET;
    out.uri.ptr = (uint8_t *)body;
    out.uri.len = body_len;
    fermyon_spin_http_response_t resp;
    fermyon_spin_http_http_error_t err;
    if (fermyon_spin_http_send_request(&out, &resp, &err)) {
      respond(ret, resp.status, resp.body.is_some ? resp.body.val.ptr : (const uint8_t *)"",
              resp.body.is_some ? resp.body.val.len : 0);
    } else {
      respond_error(ret, 502, err);
    }
  } else if (strcmp(uri, "/v1/redis") == 0) {
    spin_v1_guest_string_t address = {(uint8_t *)body, body_len};
    char out[1024] = "";
    redis_report(&address, out, sizeof out);
    respond_text(ret, 200, out);
  } else if (strcmp(uri, "/v1/pg") == 0 || strcmp(uri, "/v1/mysql") == 0) {
    spin_v1_guest_string_t address = {(uint8_t *)body, body_len};
    static char out[4096];
    out[0] = 0;
    if (uri[4] == 'p') pg_report(&address, out, sizeof out);
    else mysql_report(&address, out, sizeof out);
    respond_text(ret, 200, out);
  } else if (strcmp(uri, "/v1/sqlite") == 0) {
    static char out[4096];
    out[0] = 0;
    sqlite_report(out, sizeof out);
    respond_text(ret, 200, out);
  } else {
    respond(ret, 200, req->uri.ptr, req->uri.len);
    for (size_t i = 0; i < req->headers.len; i++) {
      spin_v1_guest_tuple2_string_string_t *h = &req->headers.ptr[i];
      if (h->f0.len == 14 && memcmp(h->f0.ptr, "spin-path-info", 14) == 0) {
        ret->headers.is_some = true;
        ret->headers.val.len = 1;
        ret->headers.val.ptr = malloc(sizeof *h);
        ret->headers.val.ptr[0].f0 = str("x-path-info");
        ret->headers.val.ptr[0].f1.ptr = malloc(h->f1.len ? h->f1.len : 1);
        memcpy(ret->headers.val.ptr[0].f1.ptr, h->f1.ptr, h->f1.len);
        ret->headers.val.ptr[0].f1.len = h->f1.len;
      }
    }
  }
}
