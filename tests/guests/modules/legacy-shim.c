// Spin's pre-component HTTP export (wit-bindgen 0.2, Spin SDKs before 2.0) around the guest
// of spin-v1.c: `handle-http-request` takes the request flattened (method, uri, headers,
// params, option<body>) and returns a pointer to the response (status at 0, option<headers>
// at 4, option<body> at 16); the host allocates with `canonical_abi_realloc`. Linked with
// wit-bindgen's bindings of the unversioned interfaces, their import modules renamed to the
// old ones (build.sh): the memory layouts of the two ABIs are the same.
#include "spin_v1_guest.h"
#include <stdlib.h>
#include <string.h>

__attribute__((export_name("canonical_abi_realloc"))) void *
canonical_abi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  (void)align; // malloc's alignment (16) covers every type of the ABI
  void *p = realloc(ptr, new_size ? new_size : 1);
  if (!p) abort();
  return p;
}

__attribute__((export_name("canonical_abi_free"))) void canonical_abi_free(void *ptr, size_t size,
                                                                          size_t align) {
  (void)size;
  (void)align;
  free(ptr);
}

// The bindings reference the component type object to keep it linked; this module must not
// carry it (it would be taken for a component), so the reference ends here.
void __component_type_object_force_link_spin_v1_guest(void) {}

static _Alignas(4) uint8_t RESPONSE[28];

__attribute__((export_name("handle-http-request"))) uint8_t *
handle_http_request(int32_t method, uint8_t *uri, size_t uri_len, void *headers,
                    size_t headers_len, void *params, size_t params_len, int32_t has_body,
                    uint8_t *body, size_t body_len) {
  exports_fermyon_spin_inbound_http_request_t req;
  memset(&req, 0, sizeof req);
  req.method = (fermyon_spin_http_types_method_t)method;
  req.uri.ptr = uri;
  req.uri.len = uri_len;
  req.headers.ptr = headers;
  req.headers.len = headers_len;
  req.params.ptr = params;
  req.params.len = params_len;
  req.body.is_some = has_body != 0;
  req.body.val.ptr = body;
  req.body.val.len = body_len;
  exports_fermyon_spin_inbound_http_response_t resp;
  exports_fermyon_spin_inbound_http_handle_request(&req, &resp);
  memset(RESPONSE, 0, sizeof RESPONSE);
  memcpy(RESPONSE, &resp.status, 2);
  if (resp.headers.is_some) {
    uint32_t words[2] = {(uint32_t)(uintptr_t)resp.headers.val.ptr, resp.headers.val.len};
    RESPONSE[4] = 1;
    memcpy(RESPONSE + 8, words, 8);
  }
  if (resp.body.is_some) {
    uint32_t words[2] = {(uint32_t)(uintptr_t)resp.body.val.ptr, resp.body.val.len};
    RESPONSE[16] = 1;
    memcpy(RESPONSE + 20, words, 8);
  }
  return RESPONSE;
}
