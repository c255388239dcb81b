(component
  (type $ty-wasi:io/error@0.2.0 (;0;)
    (instance
      (export (;0;) "error" (type (sub resource)))
    )
  )
  (import "wasi:io/error@0.2.0" (instance $wasi:io/error@0.2.0 (;0;) (type $ty-wasi:io/error@0.2.0)))
  (alias export $wasi:io/error@0.2.0 "error" (type $error (;1;)))
  (type $ty-wasi:io/streams@0.2.0 (;2;)
    (instance
      (export (;0;) "output-stream" (type (sub resource)))
      (alias outer 1 $error (type (;1;)))
      (export (;2;) "error" (type (eq 1)))
      (type (;3;) (own 2))
      (type (;4;) (variant (case "last-operation-failed" 3) (case "closed")))
      (export (;5;) "stream-error" (type (eq 4)))
      (type (;6;) (borrow 0))
      (type (;7;) (list u8))
      (type (;8;) (result (error 5)))
      (type (;9;) (func (param "self" 6) (param "contents" 7) (result 8)))
      (export (;0;) "[method]output-stream.blocking-write-and-flush" (func (type 9)))
    )
  )
  (import "wasi:io/streams@0.2.0" (instance $wasi:io/streams@0.2.0 (;1;) (type $ty-wasi:io/streams@0.2.0)))
  (alias export $wasi:io/streams@0.2.0 "output-stream" (type $output-stream (;3;)))
  (type $ty-wasi:http/types@0.2.0 (;4;)
    (instance
      (export (;0;) "fields" (type (sub resource)))
      (type (;1;) string)
      (export (;2;) "field-key" (type (eq 1)))
      (type (;3;) (list u8))
      (export (;4;) "field-value" (type (eq 3)))
      (type (;5;) (variant (case "invalid-syntax") (case "forbidden") (case "immutable")))
      (export (;6;) "header-error" (type (eq 5)))
      (export (;7;) "headers" (type (eq 0)))
      (export (;8;) "outgoing-response" (type (sub resource)))
      (export (;9;) "outgoing-body" (type (sub resource)))
      (alias outer 1 $output-stream (type (;10;)))
      (export (;11;) "output-stream" (type (eq 10)))
      (export (;12;) "trailers" (type (eq 0)))
      (type (;13;) (option string))
      (type (;14;) (option u16))
      (type (;15;) (record (field "rcode" 13) (field "info-code" 14)))
      (export (;16;) "DNS-error-payload" (type (eq 15)))
      (type (;17;) (option u8))
      (type (;18;) (record (field "alert-id" 17) (field "alert-message" 13)))
      (export (;19;) "TLS-alert-received-payload" (type (eq 18)))
      (type (;20;) (option u32))
      (type (;21;) (record (field "field-name" 13) (field "field-size" 20)))
      (export (;22;) "field-size-payload" (type (eq 21)))
      (type (;23;) (option u64))
      (type (;24;) (option 22))
      (type (;25;) (variant (case "DNS-timeout") (case "DNS-error" 16) (case "destination-not-found") (case "destination-unavailable") (case "destination-IP-prohibited") (case "destination-IP-unroutable") (case "connection-refused") (case "connection-terminated") (case "connection-timeout") (case "connection-read-timeout") (case "connection-write-timeout") (case "connection-limit-reached") (case "TLS-protocol-error") (case "TLS-certificate-error") (case "TLS-alert-received" 19) (case "HTTP-request-denied") (case "HTTP-request-length-required") (case "HTTP-request-body-size" 23) (case "HTTP-request-method-invalid") (case "HTTP-request-URI-invalid") (case "HTTP-request-URI-too-long") (case "HTTP-request-header-section-size" 20) (case "HTTP-request-header-size" 24) (case "HTTP-request-trailer-section-size" 20) (case "HTTP-request-trailer-size" 22) (case "HTTP-response-incomplete") (case "HTTP-response-header-section-size" 20) (case "HTTP-response-header-size" 22) (case "HTTP-response-body-size" 23) (case "HTTP-response-trailer-section-size" 20) (case "HTTP-response-trailer-size" 22) (case "HTTP-response-transfer-coding" 13) (case "HTTP-response-content-coding" 13) (case "HTTP-response-timeout") (case "HTTP-upgrade-failed") (case "HTTP-protocol-error") (case "loop-detected") (case "configuration-error") (case "internal-error" 13)))
      (export (;26;) "error-code" (type (eq 25)))
      (export (;27;) "response-outparam" (type (sub resource)))
      (export (;28;) "incoming-request" (type (sub resource)))
      (type (;29;) (own 0))
      (type (;30;) (func (result 29)))
      (export (;0;) "[constructor]fields" (func (type 30)))
      (type (;31;) (borrow 0))
      (type (;32;) (list 4))
      (type (;33;) (result (error 6)))
      (type (;34;) (func (param "self" 31) (param "name" 2) (param "value" 32) (result 33)))
      (export (;1;) "[method]fields.set" (func (type 34)))
      (type (;35;) (own 27))
      (type (;36;) (own 8))
      (type (;37;) (result 36 (error 26)))
      (type (;38;) (func (param "param" 35) (param "response" 37)))
      (export (;2;) "[static]response-outparam.set" (func (type 38)))
      (type (;39;) (own 7))
      (type (;40;) (func (param "headers" 39) (result 36)))
      (export (;3;) "[constructor]outgoing-response" (func (type 40)))
      (type (;41;) (borrow 8))
      (type (;42;) (own 9))
      (type (;43;) (result 42))
      (type (;44;) (func (param "self" 41) (result 43)))
      (export (;4;) "[method]outgoing-response.body" (func (type 44)))
      (type (;45;) (borrow 9))
      (type (;46;) (own 11))
      (type (;47;) (result 46))
      (type (;48;) (func (param "self" 45) (result 47)))
      (export (;5;) "[method]outgoing-body.write" (func (type 48)))
      (type (;49;) (own 12))
      (type (;50;) (option 49))
      (type (;51;) (result (error 26)))
      (type (;52;) (func (param "this" 42) (param "trailers" 50) (result 51)))
      (export (;6;) "[static]outgoing-body.finish" (func (type 52)))
    )
  )
  (import "wasi:http/types@0.2.0" (instance $wasi:http/types@0.2.0 (;2;) (type $ty-wasi:http/types@0.2.0)))
  (core module $main (;0;)
    (type (;0;) (func (result i32)))
    (type (;1;) (func (param i32 i32 i32 i32 i32 i32)))
    (type (;2;) (func (param i32) (result i32)))
    (type (;3;) (func (param i32 i32)))
    (type (;4;) (func (param i32 i32 i32 i32)))
    (type (;5;) (func (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (type (;6;) (func (param i32)))
    (type (;7;) (func (param i32 i32 i32 i32) (result i32)))
    (import "wasi:http/types@0.2.0" "[constructor]fields" (func $fields_new (;0;) (type 0)))
    (import "wasi:http/types@0.2.0" "[method]fields.set" (func $fields_set (;1;) (type 1)))
    (import "wasi:http/types@0.2.0" "[constructor]outgoing-response" (func $resp_new (;2;) (type 2)))
    (import "wasi:http/types@0.2.0" "[method]outgoing-response.body" (func $resp_body (;3;) (type 3)))
    (import "wasi:http/types@0.2.0" "[method]outgoing-body.write" (func $body_write (;4;) (type 3)))
    (import "wasi:http/types@0.2.0" "[static]outgoing-body.finish" (func $body_finish (;5;) (type 4)))
    (import "wasi:http/types@0.2.0" "[static]response-outparam.set" (func $outparam_set (;6;) (type 5)))
    (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request" (func $drop_request (;7;) (type 6)))
    (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush" (func $write_and_flush (;8;) (type 4)))
    (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $drop_stream (;9;) (type 6)))
    (memory (;0;) 1)
    (global $heap (;0;) (mut i32) i32.const 8192)
    (export "memory" (memory 0))
    (export "cabi_realloc" (func 10))
    (export "wasi:http/incoming-handler@0.2.0#handle" (func 12))
    (func (;10;) (type 7) (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $ptr i32)
      global.get $heap
      local.get $align
      i32.const 1
      i32.sub
      i32.add
      i32.const 0
      local.get $align
      i32.sub
      i32.and
      local.set $ptr
      local.get $ptr
      local.get $size
      i32.add
      global.set $heap
      global.get $heap
      memory.size
      i32.const 65536
      i32.mul
      i32.gt_u
      if ;; label = @1
        local.get $size
        i32.const 65536
        i32.div_u
        i32.const 1
        i32.add
        memory.grow
        drop
      end
      local.get $ptr
    )
    (func $expect_ok (;11;) (type 6) (param $ret i32)
      local.get $ret
      i32.load8_u
      if ;; label = @1
        unreachable
      end
    )
    (func (;12;) (type 3) (param $request i32) (param $outparam i32)
      (local $headers i32) (local $response i32) (local $body i32) (local $stream i32)
      local.get $request
      call $drop_request
      call $fields_new
      local.set $headers
      local.get $headers
      i32.const 1100
      i32.const 12
      i32.const 1140
      i32.const 1
      i32.const 2048
      call $fields_set
      i32.const 2048
      call $expect_ok
      local.get $headers
      call $resp_new
      local.set $response
      local.get $response
      i32.const 2048
      call $resp_body
      i32.const 2048
      call $expect_ok
      i32.const 2052
      i32.load
      local.set $body
      local.get $body
      i32.const 2048
      call $body_write
      i32.const 2048
      call $expect_ok
      i32.const 2052
      i32.load
      local.set $stream
      local.get $outparam
      i32.const 0
      local.get $response
      i32.const 0
      i64.const 0
      i32.const 0
      i32.const 0
      i32.const 0
      i32.const 0
      call $outparam_set
      local.get $stream
      i32.const 1024
      i32.const 16
      i32.const 2048
      call $write_and_flush
      i32.const 2048
      call $expect_ok
      local.get $stream
      call $drop_stream
      local.get $body
      i32.const 0
      i32.const 0
      i32.const 2048
      call $body_finish
      i32.const 2048
      call $expect_ok
    )
    (data (;0;) (i32.const 1024) "Hello from WAT!\0a")
    (data (;1;) (i32.const 1100) "content-type")
    (data (;2;) (i32.const 1120) "text/plain")
    (data (;3;) (i32.const 1140) "`\04\00\00\0a\00\00\00")
    (@producers
      (processed-by "wit-component" "0.240.0")
    )
  )
  (core module $wit-component-shim-module (;1;)
    (type (;0;) (func (param i32 i32 i32 i32 i32 i32)))
    (type (;1;) (func (param i32 i32)))
    (type (;2;) (func (param i32 i32 i32 i32)))
    (type (;3;) (func (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (type (;4;) (func (param i32 i32 i32 i32)))
    (table (;0;) 6 6 funcref)
    (export "0" (func 0))
    (export "1" (func 1))
    (export "2" (func 2))
    (export "3" (func 3))
    (export "4" (func 4))
    (export "5" (func 5))
    (export "$imports" (table 0))
    (func (;0;) (type 0) (param i32 i32 i32 i32 i32 i32)
      local.get 0
      local.get 1
      local.get 2
      local.get 3
      local.get 4
      local.get 5
      i32.const 0
      call_indirect (type 0)
    )
    (func (;1;) (type 1) (param i32 i32)
      local.get 0
      local.get 1
      i32.const 1
      call_indirect (type 1)
    )
    (func (;2;) (type 1) (param i32 i32)
      local.get 0
      local.get 1
      i32.const 2
      call_indirect (type 1)
    )
    (func (;3;) (type 2) (param i32 i32 i32 i32)
      local.get 0
      local.get 1
      local.get 2
      local.get 3
      i32.const 3
      call_indirect (type 2)
    )
    (func (;4;) (type 3) (param i32 i32 i32 i32 i64 i32 i32 i32 i32)
      local.get 0
      local.get 1
      local.get 2
      local.get 3
      local.get 4
      local.get 5
      local.get 6
      local.get 7
      local.get 8
      i32.const 4
      call_indirect (type 3)
    )
    (func (;5;) (type 4) (param i32 i32 i32 i32)
      local.get 0
      local.get 1
      local.get 2
      local.get 3
      i32.const 5
      call_indirect (type 4)
    )
    (@producers
      (processed-by "wit-component" "0.240.0")
    )
  )
  (core module $wit-component-fixup (;2;)
    (type (;0;) (func (param i32 i32 i32 i32 i32 i32)))
    (type (;1;) (func (param i32 i32)))
    (type (;2;) (func (param i32 i32 i32 i32)))
    (type (;3;) (func (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (type (;4;) (func (param i32 i32 i32 i32)))
    (import "" "0" (func (;0;) (type 0)))
    (import "" "1" (func (;1;) (type 1)))
    (import "" "2" (func (;2;) (type 1)))
    (import "" "3" (func (;3;) (type 2)))
    (import "" "4" (func (;4;) (type 3)))
    (import "" "5" (func (;5;) (type 4)))
    (import "" "$imports" (table (;0;) 6 6 funcref))
    (elem (;0;) (i32.const 0) func 0 1 2 3 4 5)
    (@producers
      (processed-by "wit-component" "0.240.0")
    )
  )
  (core instance $wit-component-shim-instance (;0;) (instantiate $wit-component-shim-module))
  (alias export $wasi:http/types@0.2.0 "incoming-request" (type $incoming-request (;5;)))
  (alias export $wasi:http/types@0.2.0 "response-outparam" (type $response-outparam (;6;)))
  (alias export $wasi:http/types@0.2.0 "[constructor]fields" (func $"[constructor]fields" (;0;)))
  (core func $"[constructor]fields" (;0;) (canon lower (func $"[constructor]fields")))
  (alias core export $wit-component-shim-instance "0" (core func $"indirect-wasi:http/types@0.2.0-[method]fields.set" (;1;)))
  (alias export $wasi:http/types@0.2.0 "[constructor]outgoing-response" (func $"[constructor]outgoing-response" (;1;)))
  (core func $"[constructor]outgoing-response" (;2;) (canon lower (func $"[constructor]outgoing-response")))
  (alias core export $wit-component-shim-instance "1" (core func $"indirect-wasi:http/types@0.2.0-[method]outgoing-response.body" (;3;)))
  (alias core export $wit-component-shim-instance "2" (core func $"indirect-wasi:http/types@0.2.0-[method]outgoing-body.write" (;4;)))
  (alias core export $wit-component-shim-instance "3" (core func $"indirect-wasi:http/types@0.2.0-[static]outgoing-body.finish" (;5;)))
  (alias core export $wit-component-shim-instance "4" (core func $"indirect-wasi:http/types@0.2.0-[static]response-outparam.set" (;6;)))
  (alias export $wasi:http/types@0.2.0 "incoming-request" (type $"#type7 incoming-request" (@name "incoming-request") (;7;)))
  (core func $resource.drop (;7;) (canon resource.drop $"#type7 incoming-request"))
  (core instance $wasi:http/types@0.2.0 (;1;)
    (export "[constructor]fields" (func $"[constructor]fields"))
    (export "[method]fields.set" (func $"indirect-wasi:http/types@0.2.0-[method]fields.set"))
    (export "[constructor]outgoing-response" (func $"[constructor]outgoing-response"))
    (export "[method]outgoing-response.body" (func $"indirect-wasi:http/types@0.2.0-[method]outgoing-response.body"))
    (export "[method]outgoing-body.write" (func $"indirect-wasi:http/types@0.2.0-[method]outgoing-body.write"))
    (export "[static]outgoing-body.finish" (func $"indirect-wasi:http/types@0.2.0-[static]outgoing-body.finish"))
    (export "[static]response-outparam.set" (func $"indirect-wasi:http/types@0.2.0-[static]response-outparam.set"))
    (export "[resource-drop]incoming-request" (func $resource.drop))
  )
  (alias core export $wit-component-shim-instance "5" (core func $"indirect-wasi:io/streams@0.2.0-[method]output-stream.blocking-write-and-flush" (;8;)))
  (alias export $wasi:io/streams@0.2.0 "output-stream" (type $"#type8 output-stream" (@name "output-stream") (;8;)))
  (core func $"#core-func9 resource.drop" (@name "resource.drop") (;9;) (canon resource.drop $"#type8 output-stream"))
  (core instance $wasi:io/streams@0.2.0 (;2;)
    (export "[method]output-stream.blocking-write-and-flush" (func $"indirect-wasi:io/streams@0.2.0-[method]output-stream.blocking-write-and-flush"))
    (export "[resource-drop]output-stream" (func $"#core-func9 resource.drop"))
  )
  (core instance $main (;3;) (instantiate $main
      (with "wasi:http/types@0.2.0" (instance $wasi:http/types@0.2.0))
      (with "wasi:io/streams@0.2.0" (instance $wasi:io/streams@0.2.0))
    )
  )
  (alias core export $main "memory" (core memory $memory (;0;)))
  (alias core export $wit-component-shim-instance "$imports" (core table $"shim table" (;0;)))
  (alias export $wasi:http/types@0.2.0 "[method]fields.set" (func $"[method]fields.set" (;2;)))
  (alias core export $main "cabi_realloc" (core func $realloc (;10;)))
  (core func $"#core-func11 indirect-wasi:http/types@0.2.0-[method]fields.set" (@name "indirect-wasi:http/types@0.2.0-[method]fields.set") (;11;) (canon lower (func $"[method]fields.set") (memory $memory) string-encoding=utf8))
  (alias export $wasi:http/types@0.2.0 "[method]outgoing-response.body" (func $"[method]outgoing-response.body" (;3;)))
  (core func $"#core-func12 indirect-wasi:http/types@0.2.0-[method]outgoing-response.body" (@name "indirect-wasi:http/types@0.2.0-[method]outgoing-response.body") (;12;) (canon lower (func $"[method]outgoing-response.body") (memory $memory)))
  (alias export $wasi:http/types@0.2.0 "[method]outgoing-body.write" (func $"[method]outgoing-body.write" (;4;)))
  (core func $"#core-func13 indirect-wasi:http/types@0.2.0-[method]outgoing-body.write" (@name "indirect-wasi:http/types@0.2.0-[method]outgoing-body.write") (;13;) (canon lower (func $"[method]outgoing-body.write") (memory $memory)))
  (alias export $wasi:http/types@0.2.0 "[static]outgoing-body.finish" (func $"[static]outgoing-body.finish" (;5;)))
  (core func $"#core-func14 indirect-wasi:http/types@0.2.0-[static]outgoing-body.finish" (@name "indirect-wasi:http/types@0.2.0-[static]outgoing-body.finish") (;14;) (canon lower (func $"[static]outgoing-body.finish") (memory $memory) (realloc $realloc) string-encoding=utf8))
  (alias export $wasi:http/types@0.2.0 "[static]response-outparam.set" (func $"[static]response-outparam.set" (;6;)))
  (core func $"#core-func15 indirect-wasi:http/types@0.2.0-[static]response-outparam.set" (@name "indirect-wasi:http/types@0.2.0-[static]response-outparam.set") (;15;) (canon lower (func $"[static]response-outparam.set") (memory $memory) string-encoding=utf8))
  (alias export $wasi:io/streams@0.2.0 "[method]output-stream.blocking-write-and-flush" (func $"[method]output-stream.blocking-write-and-flush" (;7;)))
  (core func $"#core-func16 indirect-wasi:io/streams@0.2.0-[method]output-stream.blocking-write-and-flush" (@name "indirect-wasi:io/streams@0.2.0-[method]output-stream.blocking-write-and-flush") (;16;) (canon lower (func $"[method]output-stream.blocking-write-and-flush") (memory $memory)))
  (core instance $fixup-args (;4;)
    (export "$imports" (table $"shim table"))
    (export "0" (func $"#core-func11 indirect-wasi:http/types@0.2.0-[method]fields.set"))
    (export "1" (func $"#core-func12 indirect-wasi:http/types@0.2.0-[method]outgoing-response.body"))
    (export "2" (func $"#core-func13 indirect-wasi:http/types@0.2.0-[method]outgoing-body.write"))
    (export "3" (func $"#core-func14 indirect-wasi:http/types@0.2.0-[static]outgoing-body.finish"))
    (export "4" (func $"#core-func15 indirect-wasi:http/types@0.2.0-[static]response-outparam.set"))
    (export "5" (func $"#core-func16 indirect-wasi:io/streams@0.2.0-[method]output-stream.blocking-write-and-flush"))
  )
  (core instance $fixup (;5;) (instantiate $wit-component-fixup
      (with "" (instance $fixup-args))
    )
  )
  (type (;9;) (own $incoming-request))
  (type (;10;) (own $response-outparam))
  (type (;11;) (func (param "request" 9) (param "response-out" 10)))
  (alias core export $main "wasi:http/incoming-handler@0.2.0#handle" (core func $wasi:http/incoming-handler@0.2.0#handle (;17;)))
  (func $handle (;8;) (type 11) (canon lift (core func $wasi:http/incoming-handler@0.2.0#handle)))
  (alias export $wasi:http/types@0.2.0 "incoming-request" (type $"#type12 incoming-request" (@name "incoming-request") (;12;)))
  (alias export $wasi:http/types@0.2.0 "response-outparam" (type $"#type13 response-outparam" (@name "response-outparam") (;13;)))
  (component $wasi:http/incoming-handler@0.2.0-shim-component (;0;)
    (import "import-type-incoming-request" (type (;0;) (sub resource)))
    (import "import-type-response-outparam" (type (;1;) (sub resource)))
    (import "import-type-incoming-request0" (type (;2;) (eq 0)))
    (type (;3;) (own 2))
    (import "import-type-response-outparam0" (type (;4;) (eq 1)))
    (type (;5;) (own 4))
    (type (;6;) (func (param "request" 3) (param "response-out" 5)))
    (import "import-func-handle" (func (;0;) (type 6)))
    (export (;7;) "incoming-request" (type 0))
    (export (;8;) "response-outparam" (type 1))
    (type (;9;) (own 7))
    (type (;10;) (own 8))
    (type (;11;) (func (param "request" 9) (param "response-out" 10)))
    (export (;1;) "handle" (func 0) (func (type 11)))
  )
  (instance $wasi:http/incoming-handler@0.2.0-shim-instance (;3;) (instantiate $wasi:http/incoming-handler@0.2.0-shim-component
      (with "import-func-handle" (func $handle))
      (with "import-type-incoming-request" (type $"#type12 incoming-request"))
      (with "import-type-response-outparam" (type $"#type13 response-outparam"))
      (with "import-type-incoming-request0" (type $incoming-request))
      (with "import-type-response-outparam0" (type $response-outparam))
    )
  )
  (export $wasi:http/incoming-handler@0.2.0 (;4;) "wasi:http/incoming-handler@0.2.0" (instance $wasi:http/incoming-handler@0.2.0-shim-instance))
  (@producers
    (processed-by "wit-component" "0.240.0")
  )
)
