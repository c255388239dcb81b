// Exports both `wasi:http/incoming-handler@0.2.0` and `fermyon:spin/inbound-http`: a
// component the runtime must refuse, naming both (which one would it call?).
#include "two_handlers.h"
#include <string.h>

void exports_wasi_http_incoming_handler_handle(
    exports_wasi_http_incoming_handler_own_incoming_request_t request,
    exports_wasi_http_incoming_handler_own_response_outparam_t response_out) {
  (void)request;
  (void)response_out;
}

void exports_fermyon_spin_inbound_http_handle_request(
    exports_fermyon_spin_inbound_http_request_t *req,
    exports_fermyon_spin_inbound_http_response_t *ret) {
  (void)req;
  memset(ret, 0, sizeof *ret);
  ret->status = 200;
}
