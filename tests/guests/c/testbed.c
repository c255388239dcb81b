// A test guest written in C against the raw WASI HTTP and Spin bindings (wit-bindgen).
// It exercises everything the runtime provides. Routes (the path below the component's
// route, from `spin-path-info`):
//
//   /hello                 200 "Hello from C!"
//   /headers               the request's spin-* headers, "name: value" per line
//   /echo                  the request body
//   /env/<NAME>            an environment variable (404 if unset)
//   /file/<path>           a mounted file (404 if missing)
//   /write/<path>          try to create a file: "written" or "denied"
//   /var/<name>            fermyon:spin/variables get (500 + error name on error)
//   /config/<name>         wasi:config/store get (404 "none" if absent)
//   /kv/<key>              default store: GET (404 if absent), PUT body, DELETE
//   /exists/<key>, /keys   default store exists / sorted keys, one per line
//   /store/<label>         open a store: "ok" or the error name
//   /wkv/open/<label>      wasi:keyvalue open: "ok" or the error name
//   /wkv/incr/<key>/<n>    wasi:keyvalue atomics increment: the new value
//   /wkv/cas/<key>         cas new + current + swap(body): "swapped <old>" or "cas-failed"
//   /wkv/batch             set-many, get-many, delete-many round trip summary
//   /outbound?<url>        GET <url> (a path alone is a relative, self request): the
//                          upstream status and body, or 502 + the WASI error name
//                          (prefixed `handle: ` when `handle` itself failed)
//   /sleep/<ms>            wait on a monotonic-clock pollable, then 200 "slept"
//   /status/<code>         an empty response with that status
#include "testbed.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  uint8_t *ptr;
  size_t len, cap;
} buf_t;

static void buf_put(buf_t *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->ptr = realloc(b->ptr, b->cap);
  }
  memcpy(b->ptr + b->len, data, n);
  b->len += n;
}

static void buf_str(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }

static testbed_string_t str(const char *s) {
  testbed_string_t r = {(uint8_t *)s, strlen(s)};
  return r;
}

static char *cstr(const uint8_t *p, size_t n) {
  char *s = malloc(n + 1);
  memcpy(s, p, n);
  s[n] = 0;
  return s;
}

static void respond(wasi_http_types_own_response_outparam_t out, uint16_t status,
                    const char *content_type, const uint8_t *body, size_t len) {
  wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
  wasi_http_types_field_key_t key = str("content-type");
  wasi_http_types_field_value_t value = {(uint8_t *)content_type, strlen(content_type)};
  testbed_list_field_value_t values = {&value, 1};
  wasi_http_types_header_error_t header_err;
  wasi_http_types_method_fields_set(wasi_http_types_borrow_fields(headers), &key, &values, &header_err);
  wasi_http_types_own_outgoing_response_t response = wasi_http_types_constructor_outgoing_response(headers);
  wasi_http_types_method_outgoing_response_set_status_code(
      wasi_http_types_borrow_outgoing_response(response), status);
  wasi_http_types_own_outgoing_body_t body_handle;
  wasi_http_types_method_outgoing_response_body(wasi_http_types_borrow_outgoing_response(response),
                                                &body_handle);
  wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = false};
  result.val.ok = response;
  wasi_http_types_static_response_outparam_set(out, &result);
  wasi_io_streams_own_output_stream_t stream;
  wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(body_handle), &stream);
  size_t offset = 0;
  while (offset < len) {
    size_t n = len - offset > 4096 ? 4096 : len - offset;
    testbed_list_u8_t chunk = {(uint8_t *)body + offset, n};
    wasi_io_streams_stream_error_t stream_err;
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            wasi_io_streams_borrow_output_stream(stream), &chunk, &stream_err))
      break;
    offset += n;
  }
  wasi_io_streams_output_stream_drop_own(stream);
  wasi_http_types_error_code_t finish_err;
  wasi_http_types_static_outgoing_body_finish(body_handle, NULL, &finish_err);
}

static void respond_text(wasi_http_types_own_response_outparam_t out, uint16_t status, const char *text) {
  respond(out, status, "text/plain", (const uint8_t *)text, strlen(text));
}

static void respond_buf(wasi_http_types_own_response_outparam_t out, uint16_t status, buf_t *b) {
  respond(out, status, "text/plain", b->ptr, b->len);
  free(b->ptr);
}

// Read a whole incoming body (from a request or a response).
static int read_body(wasi_http_types_own_incoming_body_t body, buf_t *into) {
  wasi_io_streams_own_input_stream_t stream;
  if (!wasi_http_types_method_incoming_body_stream(wasi_http_types_borrow_incoming_body(body), &stream))
    return -1;
  int ok = 0;
  for (;;) {
    testbed_list_u8_t chunk;
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_input_stream_blocking_read(wasi_io_streams_borrow_input_stream(stream),
                                                          65536, &chunk, &err)) {
      if (err.tag != WASI_IO_STREAMS_STREAM_ERROR_CLOSED) ok = -1;
      break;
    }
    buf_put(into, chunk.ptr, chunk.len);
    testbed_list_u8_free(&chunk);
  }
  wasi_io_streams_input_stream_drop_own(stream);
  wasi_http_types_future_trailers_drop_own(wasi_http_types_static_incoming_body_finish(body));
  return ok;
}

static const char *kv_error(uint8_t tag) {
  switch (tag) {
    case FERMYON_SPIN_KEY_VALUE_ERROR_STORE_TABLE_FULL: return "store-table-full";
    case FERMYON_SPIN_KEY_VALUE_ERROR_NO_SUCH_STORE: return "no-such-store";
    case FERMYON_SPIN_KEY_VALUE_ERROR_ACCESS_DENIED: return "access-denied";
    default: return "other";
  }
}

static const char *wkv_error(uint8_t tag) {
  switch (tag) {
    case WASI_KEYVALUE_STORE_ERROR_NO_SUCH_STORE: return "no-such-store";
    case WASI_KEYVALUE_STORE_ERROR_ACCESS_DENIED: return "access-denied";
    default: return "other";
  }
}

static const char *http_error(uint8_t tag) {
  switch (tag) {
    case WASI_HTTP_TYPES_ERROR_CODE_DNS_ERROR: return "DNS-error";
    case WASI_HTTP_TYPES_ERROR_CODE_CONNECTION_REFUSED: return "connection-refused";
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_DENIED: return "HTTP-request-denied";
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_REQUEST_URI_INVALID: return "HTTP-request-URI-invalid";
    case WASI_HTTP_TYPES_ERROR_CODE_HTTP_PROTOCOL_ERROR: return "HTTP-protocol-error";
    default: return "other-error";
  }
}

static void handle_headers(wasi_http_types_borrow_incoming_request_t req,
                           wasi_http_types_own_response_outparam_t out) {
  wasi_http_types_own_headers_t headers = wasi_http_types_method_incoming_request_headers(req);
  testbed_list_tuple2_field_key_field_value_t entries;
  wasi_http_types_method_fields_entries(wasi_http_types_borrow_fields(headers), &entries);
  buf_t b = {0};
  for (size_t i = 0; i < entries.len; i++) {
    testbed_tuple2_field_key_field_value_t *e = &entries.ptr[i];
    if (e->f0.len >= 5 && memcmp(e->f0.ptr, "spin-", 5) == 0) {
      buf_put(&b, e->f0.ptr, e->f0.len);
      buf_str(&b, ": ");
      buf_put(&b, e->f1.ptr, e->f1.len);
      buf_str(&b, "\n");
    }
  }
  testbed_list_tuple2_field_key_field_value_free(&entries);
  wasi_http_types_fields_drop_own(headers);
  respond_buf(out, 200, &b);
}

static void handle_kv(const char *cmd, const char *arg, wasi_http_types_method_t *method,
                      wasi_http_types_borrow_incoming_request_t req,
                      wasi_http_types_own_response_outparam_t out) {
  fermyon_spin_key_value_own_store_t store;
  fermyon_spin_key_value_error_t err;
  testbed_string_t label = str(strcmp(cmd, "store") == 0 ? arg : "default");
  if (!fermyon_spin_key_value_static_store_open(&label, &store, &err)) {
    respond_text(out, 500, kv_error(err.tag));
    return;
  }
  if (strcmp(cmd, "store") == 0) {
    fermyon_spin_key_value_store_drop_own(store);
    respond_text(out, 200, "ok");
    return;
  }
  fermyon_spin_key_value_borrow_store_t s = fermyon_spin_key_value_borrow_store(store);
  testbed_string_t key = str(arg);
  if (strcmp(cmd, "kv") == 0 && method->tag == WASI_HTTP_TYPES_METHOD_PUT) {
    wasi_http_types_own_incoming_body_t body;
    buf_t value = {0};
    if (!wasi_http_types_method_incoming_request_consume(req, &body) || read_body(body, &value) != 0) {
      respond_text(out, 400, "cannot read body");
    } else {
      testbed_list_u8_t v = {value.ptr, value.len};
      if (fermyon_spin_key_value_method_store_set(s, &key, &v, &err)) respond_text(out, 200, "ok");
      else respond_text(out, 500, kv_error(err.tag));
    }
    free(value.ptr);
  } else if (strcmp(cmd, "kv") == 0 && method->tag == WASI_HTTP_TYPES_METHOD_DELETE) {
    if (fermyon_spin_key_value_method_store_delete(s, &key, &err)) respond_text(out, 200, "ok");
    else respond_text(out, 500, kv_error(err.tag));
  } else if (strcmp(cmd, "kv") == 0) {
    testbed_option_list_u8_t value;
    if (!fermyon_spin_key_value_method_store_get(s, &key, &value, &err)) respond_text(out, 500, kv_error(err.tag));
    else if (!value.is_some) respond_text(out, 404, "not found");
    else {
      respond(out, 200, "application/octet-stream", value.val.ptr, value.val.len);
      testbed_list_u8_free(&value.val);
    }
  } else if (strcmp(cmd, "exists") == 0) {
    bool exists;
    if (fermyon_spin_key_value_method_store_exists(s, &key, &exists, &err))
      respond_text(out, 200, exists ? "true" : "false");
    else respond_text(out, 500, kv_error(err.tag));
  } else {
    testbed_list_string_t keys;
    if (!fermyon_spin_key_value_method_store_get_keys(s, &keys, &err)) {
      respond_text(out, 500, kv_error(err.tag));
    } else {
      buf_t b = {0};
      for (size_t i = 0; i < keys.len; i++) {
        if (i) buf_str(&b, "\n");
        buf_put(&b, keys.ptr[i].ptr, keys.ptr[i].len);
      }
      testbed_list_string_free(&keys);
      respond_buf(out, 200, &b);
    }
  }
  fermyon_spin_key_value_store_drop_own(store);
}

static void handle_wkv(const char *rest, wasi_http_types_borrow_incoming_request_t req,
                       wasi_http_types_own_response_outparam_t out) {
  char *path = strdup(rest);
  char *op = strtok(path, "/");
  char *a = strtok(NULL, "/");
  char *b2 = strtok(NULL, "/");
  wasi_keyvalue_store_own_bucket_t bucket;
  wasi_keyvalue_store_error_t err;
  testbed_string_t label = str(op && strcmp(op, "open") == 0 && a ? a : "default");
  if (!wasi_keyvalue_store_open(&label, &bucket, &err)) {
    respond_text(out, 500, wkv_error(err.tag));
    free(path);
    return;
  }
  wasi_keyvalue_store_borrow_bucket_t bb = wasi_keyvalue_store_borrow_bucket(bucket);
  char text[256];
  if (!op || strcmp(op, "open") == 0) {
    respond_text(out, 200, "ok");
  } else if (strcmp(op, "incr") == 0 && a && b2) {
    testbed_string_t key = str(a);
    int64_t value;
    if (wasi_keyvalue_atomics_increment(bb, &key, atoll(b2), &value, &err)) {
      snprintf(text, sizeof text, "%lld", (long long)value);
      respond_text(out, 200, text);
    } else respond_text(out, 500, wkv_error(err.tag));
  } else if (strcmp(op, "cas") == 0 && a) {
    testbed_string_t key = str(a);
    wasi_keyvalue_atomics_own_cas_t cas;
    testbed_option_list_u8_t current;
    wasi_http_types_own_incoming_body_t body;
    buf_t value = {0};
    wasi_http_types_method_incoming_request_consume(req, &body);
    read_body(body, &value);
    if (!wasi_keyvalue_atomics_static_cas_new(bb, &key, &cas, &err) ||
        !wasi_keyvalue_atomics_method_cas_current(wasi_keyvalue_atomics_borrow_cas(cas), &current, &err)) {
      respond_text(out, 500, wkv_error(err.tag));
    } else {
      char *old = current.is_some ? cstr(current.val.ptr, current.val.len) : strdup("<none>");
      testbed_list_u8_t v = {value.ptr, value.len};
      wasi_keyvalue_atomics_cas_error_t cas_err;
      if (wasi_keyvalue_atomics_swap(cas, &v, &cas_err)) {
        snprintf(text, sizeof text, "swapped %s", old);
        respond_text(out, 200, text);
      } else {
        if (cas_err.tag == WASI_KEYVALUE_ATOMICS_CAS_ERROR_CAS_FAILED)
          wasi_keyvalue_atomics_cas_drop_own(cas_err.val.cas_failed);
        respond_text(out, 409, "cas-failed");
      }
      free(old);
    }
    free(value.ptr);
  } else if (strcmp(op, "batch") == 0) {
    testbed_tuple2_string_list_u8_t pairs[2] = {{str("b1"), {(uint8_t *)"1", 1}}, {str("b2"), {(uint8_t *)"2", 1}}};
    testbed_list_tuple2_string_list_u8_t set = {pairs, 2};
    testbed_string_t names[3] = {str("b1"), str("b2"), str("b3")};
    testbed_list_string_t keys = {names, 3};
    testbed_list_tuple2_string_option_list_u8_t got;
    buf_t b = {0};
    if (!wasi_keyvalue_batch_set_many(bb, &set, &err) || !wasi_keyvalue_batch_get_many(bb, &keys, &got, &err)) {
      respond_text(out, 500, wkv_error(err.tag));
    } else {
      for (size_t i = 0; i < got.len; i++) {
        if (i) buf_str(&b, ",");
        buf_put(&b, got.ptr[i].f0.ptr, got.ptr[i].f0.len);
        buf_str(&b, "=");
        if (got.ptr[i].f1.is_some) buf_put(&b, got.ptr[i].f1.val.ptr, got.ptr[i].f1.val.len);
        else buf_str(&b, "<none>");
      }
      testbed_list_tuple2_string_option_list_u8_free(&got);
      testbed_list_string_t del = {names, 2};
      bool exists = true;
      testbed_string_t b1 = str("b1");
      if (wasi_keyvalue_batch_delete_many(bb, &del, &err) &&
          wasi_keyvalue_store_method_bucket_exists(bb, &b1, &exists, &err))
        buf_str(&b, exists ? ";b1 still exists" : ";deleted");
      respond_buf(out, 200, &b);
    }
  } else {
    respond_text(out, 404, "no such wkv route");
  }
  wasi_keyvalue_store_bucket_drop_own(bucket);
  free(path);
}

static void handle_outbound(const char *url, wasi_http_types_own_response_outparam_t out) {
  const char *path = url;
  char *authority = NULL;
  wasi_http_types_scheme_t scheme = {.tag = WASI_HTTP_TYPES_SCHEME_HTTP};
  const char *sep = strstr(url, "://");
  if (sep) {
    if (strncmp(url, "https", 5) == 0) scheme.tag = WASI_HTTP_TYPES_SCHEME_HTTPS;
    const char *host = sep + 3;
    const char *slash = strchr(host, '/');
    size_t n = slash ? (size_t)(slash - host) : strlen(host);
    authority = cstr((const uint8_t *)host, n);
    path = slash ? slash : "/";
  }
  wasi_http_types_own_outgoing_request_t request =
      wasi_http_types_constructor_outgoing_request(wasi_http_types_constructor_fields());
  wasi_http_types_borrow_outgoing_request_t r = wasi_http_types_borrow_outgoing_request(request);
  testbed_string_t p = str(path);
  wasi_http_types_method_outgoing_request_set_path_with_query(r, &p);
  if (authority) {
    testbed_string_t a = str(authority);
    wasi_http_types_method_outgoing_request_set_scheme(r, &scheme);
    wasi_http_types_method_outgoing_request_set_authority(r, &a);
  }
  wasi_http_types_own_future_incoming_response_t future;
  wasi_http_types_error_code_t err;
  if (!wasi_http_outgoing_handler_handle(request, NULL, &future, &err)) {
    // Spin reports refusals from the response future, not from `handle`: say which it was.
    char text[96];
    snprintf(text, sizeof text, "handle: %s", http_error(err.tag));
    respond_text(out, 502, text);
    free(authority);
    return;
  }
  wasi_io_poll_own_pollable_t ready = wasi_http_types_method_future_incoming_response_subscribe(
      wasi_http_types_borrow_future_incoming_response(future));
  wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
  wasi_io_poll_pollable_drop_own(ready);
  wasi_http_types_result_result_own_incoming_response_error_code_void_t result;
  wasi_http_types_method_future_incoming_response_get(wasi_http_types_borrow_future_incoming_response(future), &result);
  wasi_http_types_future_incoming_response_drop_own(future);
  if (result.is_err || result.val.ok.is_err) {
    respond_text(out, 502, result.is_err ? "other-error" : http_error(result.val.ok.val.err.tag));
  } else {
    wasi_http_types_own_incoming_response_t response = result.val.ok.val.ok;
    uint16_t status = wasi_http_types_method_incoming_response_status(wasi_http_types_borrow_incoming_response(response));
    wasi_http_types_own_incoming_body_t body;
    buf_t b = {0};
    char line[32];
    snprintf(line, sizeof line, "%u\n", status);
    buf_str(&b, line);
    if (wasi_http_types_method_incoming_response_consume(wasi_http_types_borrow_incoming_response(response), &body))
      read_body(body, &b);
    wasi_http_types_incoming_response_drop_own(response);
    respond_buf(out, 200, &b);
  }
  free(authority);
}

static void handle_file(const char *path, wasi_http_types_own_response_outparam_t out) {
  char full[1024];
  snprintf(full, sizeof full, "/%s", path);
  FILE *f = fopen(full, "rb");
  if (!f) {
    respond_text(out, 404, "no such file");
    return;
  }
  buf_t b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_put(&b, chunk, n);
  fclose(f);
  respond_buf(out, 200, &b);
}

static char *path_info(wasi_http_types_borrow_incoming_request_t req, const char *fallback) {
  wasi_http_types_own_headers_t headers = wasi_http_types_method_incoming_request_headers(req);
  wasi_http_types_field_key_t name = str("spin-path-info");
  testbed_list_field_value_t values;
  wasi_http_types_method_fields_get(wasi_http_types_borrow_fields(headers), &name, &values);
  char *result = values.len > 0 && values.ptr[0].len > 0 ? cstr(values.ptr[0].ptr, values.ptr[0].len)
                                                         : strdup(fallback);
  testbed_list_field_value_free(&values);
  wasi_http_types_fields_drop_own(headers);
  return result;
}

void exports_wasi_http_incoming_handler_handle(exports_wasi_http_incoming_handler_own_incoming_request_t request,
                                               exports_wasi_http_incoming_handler_own_response_outparam_t out) {
  wasi_http_types_borrow_incoming_request_t req = wasi_http_types_borrow_incoming_request(request);
  // Route on `spin-path-info` (the path below the component's route), falling back to the path.
  testbed_string_t raw_path;
  if (!wasi_http_types_method_incoming_request_path_with_query(req, &raw_path)) raw_path = str("/");
  char *full = cstr(raw_path.ptr, raw_path.len);
  char *query = strchr(full, '?');
  if (query) *query++ = 0;
  char *path = path_info(req, full);
  wasi_http_types_method_t method;
  wasi_http_types_method_incoming_request_method(req, &method);
  char *route = path[0] == '/' ? path + 1 : path;
  char *slash = strchr(route, '/');
  const char *arg = "";
  if (slash) {
    *slash = 0;
    arg = slash + 1;
  }

  if (strcmp(route, "hello") == 0) {
    respond_text(out, 200, "Hello from C!\n");
  } else if (strcmp(route, "headers") == 0) {
    handle_headers(req, out);
  } else if (strcmp(route, "echo") == 0) {
    wasi_http_types_own_incoming_body_t body;
    buf_t b = {0};
    if (!wasi_http_types_method_incoming_request_consume(req, &body) || read_body(body, &b) != 0)
      respond_text(out, 500, "body read failed");
    else respond(out, 200, "application/octet-stream", b.ptr, b.len);
    free(b.ptr);
  } else if (strcmp(route, "env") == 0) {
    const char *v = getenv(arg);
    respond_text(out, v ? 200 : 404, v ? v : "unset");
  } else if (strcmp(route, "file") == 0) {
    handle_file(arg, out);
  } else if (strcmp(route, "write") == 0) {
    char full[1024];
    snprintf(full, sizeof full, "/%s", arg);
    FILE *f = fopen(full, "wb");
    if (f) fclose(f);
    respond_text(out, 200, f ? "written" : "denied");
  } else if (strcmp(route, "var") == 0) {
    testbed_string_t name = str(arg), value;
    fermyon_spin_variables_error_t err;
    if (fermyon_spin_variables_get(&name, &value, &err)) {
      respond(out, 200, "text/plain", value.ptr, value.len);
      testbed_string_free(&value);
    } else {
      respond_text(out, 500, err.tag == FERMYON_SPIN_VARIABLES_ERROR_UNDEFINED ? "undefined"
                             : err.tag == FERMYON_SPIN_VARIABLES_ERROR_INVALID_NAME ? "invalid-name"
                                                                                   : "other");
    }
  } else if (strcmp(route, "config") == 0) {
    testbed_string_t name = str(arg);
    testbed_option_string_t value;
    wasi_config_store_error_t err;
    if (!wasi_config_store_get(&name, &value, &err)) respond_text(out, 500, "error");
    else if (!value.is_some) respond_text(out, 404, "none");
    else {
      respond(out, 200, "text/plain", value.val.ptr, value.val.len);
      testbed_option_string_free(&value);
    }
  } else if (strcmp(route, "kv") == 0 || strcmp(route, "exists") == 0 || strcmp(route, "keys") == 0 ||
             strcmp(route, "store") == 0) {
    handle_kv(route, arg, &method, req, out);
  } else if (strcmp(route, "wkv") == 0) {
    handle_wkv(arg, req, out);
  } else if (strcmp(route, "outbound") == 0) {
    handle_outbound(query ? query : "/", out);
  } else if (strcmp(route, "sleep") == 0) {
    wasi_io_poll_own_pollable_t p = wasi_clocks_monotonic_clock_subscribe_duration((uint64_t)atoll(arg) * 1000000ull);
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(p));
    wasi_io_poll_pollable_drop_own(p);
    respond_text(out, 200, "slept");
  } else if (strcmp(route, "status") == 0) {
    respond_text(out, (uint16_t)atoi(arg), "");
  } else {
    // Name the component (its WHO variable) so routing tests can tell who answered.
    char text[512];
    const char *who = getenv("WHO");
    snprintf(text, sizeof text, "no such test route /%s (WHO=%s)", route, who ? who : "");
    respond_text(out, 404, text);
  }
  free(path);
  free(full);
  wasi_http_types_incoming_request_drop_own(request);
}
