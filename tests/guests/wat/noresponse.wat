;; Returns without setting a response (the runtime must answer 500).
(module
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request" (func $drop_request (param i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]response-outparam" (func $drop_outparam (param i32)))
  (memory (export "memory") 1)
  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param $req i32) (param $out i32)
    (call $drop_request (local.get $req))
    (call $drop_outparam (local.get $out))))
