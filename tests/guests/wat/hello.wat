;; A hand-written WASI HTTP handler: answers every request with 200,
;; `content-type: text/plain` and the body "Hello from WAT!\n".
;; Imports use the canonical ABI lowering of wasi:http@0.2.0 (see ../wit/worlds.wit).
(module
  (import "wasi:http/types@0.2.0" "[constructor]fields" (func $fields_new (result i32)))
  (import "wasi:http/types@0.2.0" "[method]fields.set" (func $fields_set (param i32 i32 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-response" (func $resp_new (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.body" (func $resp_body (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-body.write" (func $body_write (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]outgoing-body.finish" (func $body_finish (param i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]response-outparam.set" (func $outparam_set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request" (func $drop_request (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush" (func $write_and_flush (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $drop_stream (param i32)))

  (memory (export "memory") 1)
  (data (i32.const 1024) "Hello from WAT!\n")
  (data (i32.const 1100) "content-type")
  (data (i32.const 1120) "text/plain")
  ;; list<field-value> with one element: (ptr = 1120, len = 10)
  (data (i32.const 1140) "\60\04\00\00\0a\00\00\00")

  (global $heap (mut i32) (i32.const 8192))

  ;; Bump allocator for values the host returns into guest memory.
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.div_u (local.get $size) (i32.const 65536)) (i32.const 1))))))
    (local.get $ptr))

  ;; Trap unless the result<_, _> written at `ret` is `ok`.
  (func $expect_ok (param $ret i32)
    (if (i32.load8_u (local.get $ret)) (then unreachable)))

  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param $request i32) (param $outparam i32)
    (local $headers i32) (local $response i32) (local $body i32) (local $stream i32)
    (call $drop_request (local.get $request))
    (local.set $headers (call $fields_new))
    (call $fields_set (local.get $headers) (i32.const 1100) (i32.const 12) (i32.const 1140) (i32.const 1) (i32.const 2048))
    (call $expect_ok (i32.const 2048))
    (local.set $response (call $resp_new (local.get $headers)))
    (call $resp_body (local.get $response) (i32.const 2048))
    (call $expect_ok (i32.const 2048))
    (local.set $body (i32.load (i32.const 2052)))
    (call $body_write (local.get $body) (i32.const 2048))
    (call $expect_ok (i32.const 2048))
    (local.set $stream (i32.load (i32.const 2052)))
    ;; result<own<outgoing-response>, error-code>::ok(response)
    (call $outparam_set (local.get $outparam) (i32.const 0) (local.get $response)
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $write_and_flush (local.get $stream) (i32.const 1024) (i32.const 16) (i32.const 2048))
    (call $expect_ok (i32.const 2048))
    (call $drop_stream (local.get $stream))
    (call $body_finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 2048))
    (call $expect_ok (i32.const 2048)))
)
