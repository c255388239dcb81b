;{
   // Precompiled regular expressions
   const precompile = (r) => { r.exec('a'); r.exec('\u1000'); };precompile(/^\/+|\/+$/g);}// src/index.js
import { Store } from "fermyon:spin/key-value@2.0.0";
import { get as getVariable } from "fermyon:spin/variables@2.0.0";
function text(status, body) {
  return new Response(body, { status, headers: { "content-type": "text/plain" } });
}
function errorName(e) {
  return e && e.payload && e.payload.tag ? e.payload.tag : String(e);
}
async function handle(request) {
  const path = (request.headers.get("spin-path-info") || "").replace(/^\/+|\/+$/g, "");
  const slash = path.indexOf("/");
  const command = slash < 0 ? path : path.slice(0, slash);
  const arg = slash < 0 ? "" : path.slice(slash + 1);
  try {
    if (command === "hello") return text(200, "Hello from JavaScript!\n");
    if (command === "var") return text(200, getVariable(arg));
    if (command === "store") {
      Store.open(arg);
      return text(200, "ok");
    }
    const store = Store.open("default");
    if (command === "kv") {
      if (request.method === "PUT") {
        store.set(arg, new Uint8Array(await request.arrayBuffer()));
        return text(200, "ok");
      }
      if (request.method === "DELETE") {
        store.delete(arg);
        return text(200, "ok");
      }
      const value = store.get(arg);
      if (value === void 0 || value === null) return text(404, "not found");
      return new Response(value, { status: 200, headers: { "content-type": "application/octet-stream" } });
    }
    if (command === "exists") return text(200, store.exists(arg) ? "true" : "false");
    if (command === "keys") return text(200, store.getKeys().sort().join("\n"));
    return text(404, "no such test route");
  } catch (e) {
    return text(500, errorName(e));
  }
}
addEventListener("fetch", (event) => event.respondWith(handle(event.request)));

//# sourceMappingURL=precompiled-source.js.map
