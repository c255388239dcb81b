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
