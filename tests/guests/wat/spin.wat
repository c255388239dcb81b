;; Loops forever (the runtime's request timeout must stop it).
(module
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request" (func $drop_request (param i32)))
  (memory (export "memory") 1)
  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param i32 i32)
    (loop $forever (br $forever))))
