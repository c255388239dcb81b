;; A hand-written core module of Spin's pre-component ABI (what wit-bindgen 0.2 generated
;; for Spin 0.x/1.x SDKs): exports `handle-http-request`, `canonical_abi_realloc` and
;; `canonical_abi_free`; imports `spin-config`, `key-value`, `wasi-outbound-http` and
;; `outbound-redis` (and `outbound-pg` as Spin 0.x declared it) with the old canonical ABI (strings and lists as (ptr, len), results
;; wider than one value through a return area passed last).
;;
;; The operation is the character after "/abi/" in the request's path:
;;   c  config `greeting`: 200 + value; on error 500 + the error's tag, body = its message
;;   k  default store: set "k" = request body, then get "k": 200 + value
;;   n  default store: get "nope" (absent): 500 + tag (504 = no-such-key)
;;   x  default store: exists "k": 200 "1" or "0"
;;   d  open store "secret" (not listed): 500 + tag (502 = access-denied)
;;   o  GET the URL in the request body: the upstream status and body, 520 + tag on error
;;      (521 = destination-not-allowed)
;;   r  outbound-redis get at redis://127.0.0.1:1 (nothing listens there): 503 on the error
;;   p  outbound-pg query of Spin 0.x (no address, string parameters): the runtime serves
;;      only Spin 1.x's signature, so the call traps (500); the module still loads
;;   e  echo: 200, body = the request's uri, header `x-method` = the method's index
;;   s  a malformed status (42): the runtime must answer 500
;;   b  a body pointer outside its memory: the runtime must answer 500, not read it
(module
  (import "spin-config" "get-config" (func $get_config (param i32 i32 i32)))
  (import "key-value" "open" (func $kv_open (param i32 i32 i32)))
  (import "key-value" "get" (func $kv_get (param i32 i32 i32 i32)))
  (import "key-value" "set" (func $kv_set (param i32 i32 i32 i32 i32 i32)))
  (import "key-value" "exists" (func $kv_exists (param i32 i32 i32 i32)))
  (import "key-value" "close" (func $kv_close (param i32)))
  (import "wasi-outbound-http" "request"
    (func $http_request (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "outbound-redis" "get" (func $redis_get (param i32 i32 i32 i32 i32)))
  (import "outbound-pg" "query" (func $pg_query_0x (param i32 i32 i32 i32 i32)))

  (memory (export "memory") 1)
  (data (i32.const 1024) "greeting")       ;; 8
  (data (i32.const 1040) "default")        ;; 7
  (data (i32.const 1056) "secret")         ;; 6
  (data (i32.const 1072) "k")              ;; 1
  (data (i32.const 1080) "nope")           ;; 4
  (data (i32.const 1088) "redis://127.0.0.1:1") ;; 19
  (data (i32.const 1120) "01")
  (data (i32.const 1136) "x-method")       ;; 8
  (data (i32.const 1152) "0123456")
  ;; headers list (one element) for the echo: ("x-method", <digit>)
  ;; at 1168: name ptr 1136, len 8, value ptr (set at run time), len 1

  ;; 256: the response return area; 512: import return areas
  (global $heap (mut i32) (i32.const 4096))

  (func $realloc (export "canonical_abi_realloc")
    (param $old i32) (param $old_len i32) (param $align i32) (param $new_len i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $new_len)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.add
                  (i32.shr_u
                    (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
                    (i32.const 16))
                  (i32.const 1)))
              (i32.const -1))
          (then unreachable))))
    (if (local.get $old_len)
      (then (memory.copy (local.get $p) (local.get $old) (local.get $old_len))))
    (local.get $p))

  (func (export "canonical_abi_free") (param i32 i32 i32))

  ;; Fill the response return area: status, no headers, body (ptr, len).
  (func $respond (param $status i32) (param $ptr i32) (param $len i32) (result i32)
    (i32.store16 (i32.const 256) (local.get $status))
    (i32.store8 (i32.const 260) (i32.const 0))
    (i32.store8 (i32.const 272) (i32.const 1))
    (i32.store (i32.const 276) (local.get $ptr))
    (i32.store (i32.const 280) (local.get $len))
    (i32.const 256))

  ;; An `expected<_, error>` at 512 whose error tag is at 516: 500 + tag, empty body.
  (func $kv_error (result i32)
    (call $respond
      (i32.add (i32.const 500) (i32.load8_u (i32.const 516)))
      (i32.const 0) (i32.const 0)))

  ;; Open `default` into the handle at 508; 0 on success.
  (func $open_default (result i32)
    (call $kv_open (i32.const 1040) (i32.const 7) (i32.const 512))
    (if (result i32) (i32.load8_u (i32.const 512))
      (then (i32.const 1))
      (else (i32.store (i32.const 508) (i32.load (i32.const 516))) (i32.const 0))))

  (func (export "handle-http-request")
    (param $method i32) (param $uri i32) (param $uri_len i32)
    (param $headers i32) (param $headers_len i32) (param $params i32) (param $params_len i32)
    (param $has_body i32) (param $body i32) (param $body_len i32)
    (result i32)
    (local $op i32)
    (local.set $op
      (if (result i32) (i32.gt_u (local.get $uri_len) (i32.const 5))
        (then (i32.load8_u (i32.add (local.get $uri) (i32.const 5))))
        (else (i32.const 0))))

    ;; c: config
    (if (i32.eq (local.get $op) (i32.const 99))
      (then
        (call $get_config (i32.const 1024) (i32.const 8) (i32.const 512))
        (if (i32.load8_u (i32.const 512))
          (then
            (return (call $respond
              (i32.add (i32.const 500) (i32.load8_u (i32.const 516)))
              (i32.load (i32.const 520)) (i32.load (i32.const 524))))))
        (return (call $respond (i32.const 200)
          (i32.load (i32.const 516)) (i32.load (i32.const 520))))))

    ;; k: set then get
    (if (i32.eq (local.get $op) (i32.const 107))
      (then
        (if (call $open_default) (then (return (call $kv_error))))
        (call $kv_set (i32.load (i32.const 508)) (i32.const 1072) (i32.const 1)
          (local.get $body) (local.get $body_len) (i32.const 512))
        (if (i32.load8_u (i32.const 512)) (then (return (call $kv_error))))
        (call $kv_get (i32.load (i32.const 508)) (i32.const 1072) (i32.const 1) (i32.const 512))
        (if (i32.load8_u (i32.const 512)) (then (return (call $kv_error))))
        (call $kv_close (i32.load (i32.const 508)))
        (return (call $respond (i32.const 200)
          (i32.load (i32.const 516)) (i32.load (i32.const 520))))))

    ;; n: get a missing key
    (if (i32.eq (local.get $op) (i32.const 110))
      (then
        (if (call $open_default) (then (return (call $kv_error))))
        (call $kv_get (i32.load (i32.const 508)) (i32.const 1080) (i32.const 4) (i32.const 512))
        (if (i32.load8_u (i32.const 512)) (then (return (call $kv_error))))
        (return (call $respond (i32.const 200) (i32.const 0) (i32.const 0)))))

    ;; x: exists "k"
    (if (i32.eq (local.get $op) (i32.const 120))
      (then
        (if (call $open_default) (then (return (call $kv_error))))
        (call $kv_exists (i32.load (i32.const 508)) (i32.const 1072) (i32.const 1) (i32.const 512))
        (if (i32.load8_u (i32.const 512)) (then (return (call $kv_error))))
        (return (call $respond (i32.const 200)
          (i32.add (i32.const 1120) (i32.load8_u (i32.const 516))) (i32.const 1)))))

    ;; d: a store the component may not open
    (if (i32.eq (local.get $op) (i32.const 100))
      (then
        (call $kv_open (i32.const 1056) (i32.const 6) (i32.const 512))
        (if (i32.load8_u (i32.const 512)) (then (return (call $kv_error))))
        (return (call $respond (i32.const 200) (i32.const 0) (i32.const 0)))))

    ;; o: outbound GET of the URL in the body
    (if (i32.eq (local.get $op) (i32.const 111))
      (then
        (call $http_request
          (i32.const 0) (local.get $body) (local.get $body_len)
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
          (i32.const 0) (i32.const 0) (i32.const 0)
          (i32.const 640))
        (if (i32.load8_u (i32.const 640))
          (then
            (return (call $respond
              (i32.add (i32.const 520) (i32.load8_u (i32.const 644)))
              (i32.const 0) (i32.const 0)))))
        (return (call $respond (i32.load16_u (i32.const 644))
          (i32.load (i32.const 664)) (i32.load (i32.const 668))))))

    ;; p: an import of an older ABI
    (if (i32.eq (local.get $op) (i32.const 112))
      (then
        (call $pg_query_0x (i32.const 1072) (i32.const 1) (i32.const 0) (i32.const 0)
          (i32.const 640))
        (return (call $respond (i32.const 200) (i32.const 0) (i32.const 0)))))

    ;; r: outbound Redis, failing
    (if (i32.eq (local.get $op) (i32.const 114))
      (then
        (call $redis_get (i32.const 1088) (i32.const 19) (i32.const 1072) (i32.const 1)
          (i32.const 640))
        (if (i32.load8_u (i32.const 640))
          (then (return (call $respond (i32.const 503) (i32.const 0) (i32.const 0)))))
        (return (call $respond (i32.const 200) (i32.const 0) (i32.const 0)))))

;; b: a lying body pointer
    (if (i32.eq (local.get $op) (i32.const 98))
      (then (return (call $respond (i32.const 200) (i32.const -16) (i32.const 4096)))))

    ;; s: malformed status
    (if (i32.eq (local.get $op) (i32.const 115))
      (then (return (call $respond (i32.const 42) (i32.const 0) (i32.const 0)))))

    ;; e (and anything else): echo the uri, with x-method
    (i32.store (i32.const 1168) (i32.const 1136))
    (i32.store (i32.const 1172) (i32.const 8))
    (i32.store (i32.const 1176) (i32.add (i32.const 1152) (local.get $method)))
    (i32.store (i32.const 1180) (i32.const 1))
    (drop (call $respond (i32.const 200) (local.get $uri) (local.get $uri_len)))
    (i32.store8 (i32.const 260) (i32.const 1))
    (i32.store (i32.const 264) (i32.const 1168))
    (i32.store (i32.const 268) (i32.const 1))
    (i32.const 256))
)
