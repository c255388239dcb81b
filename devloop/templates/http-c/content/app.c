// {{project-name}}: {{project-description}}
// A WASI HTTP handler in C. wit-bindgen generates gen/http_handler.h from wit/.
#include "http_handler.h"
#include <string.h>

static void respond(wasi_http_types_own_response_outparam_t out, uint16_t status, const char *text) {
  wasi_http_types_own_fields_t headers = wasi_http_types_constructor_fields();
  http_handler_string_t key = {(uint8_t *)"content-type", strlen("content-type")};
  wasi_http_types_field_value_t value = {(uint8_t *)"text/plain", strlen("text/plain")};
  http_handler_list_field_value_t values = {&value, 1};
  wasi_http_types_header_error_t header_err;
  wasi_http_types_method_fields_set(wasi_http_types_borrow_fields(headers), &key, &values, &header_err);

  wasi_http_types_own_outgoing_response_t response = wasi_http_types_constructor_outgoing_response(headers);
  wasi_http_types_method_outgoing_response_set_status_code(wasi_http_types_borrow_outgoing_response(response), status);
  wasi_http_types_own_outgoing_body_t body;
  wasi_http_types_method_outgoing_response_body(wasi_http_types_borrow_outgoing_response(response), &body);
  wasi_http_types_result_own_outgoing_response_error_code_t result = {.is_err = false};
  result.val.ok = response;
  wasi_http_types_static_response_outparam_set(out, &result);

  wasi_io_streams_own_output_stream_t stream;
  wasi_http_types_method_outgoing_body_write(wasi_http_types_borrow_outgoing_body(body), &stream);
  http_handler_list_u8_t bytes = {(uint8_t *)text, strlen(text)};
  wasi_io_streams_stream_error_t stream_err;
  wasi_io_streams_method_output_stream_blocking_write_and_flush(wasi_io_streams_borrow_output_stream(stream), &bytes, &stream_err);
  wasi_io_streams_output_stream_drop_own(stream);
  wasi_http_types_error_code_t finish_err;
  wasi_http_types_static_outgoing_body_finish(body, NULL, &finish_err);
}

void exports_wasi_http_incoming_handler_handle(exports_wasi_http_incoming_handler_own_incoming_request_t request,
                                               exports_wasi_http_incoming_handler_own_response_outparam_t out) {
  wasi_http_types_incoming_request_drop_own(request);
  respond(out, 200, "Hello from C!");
}
