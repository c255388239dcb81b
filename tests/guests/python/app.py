"""Test guest built with the Spin Python SDK: hello, key/value and variables.

Routes (below the component's route prefix, read from `spin-path-info`):
  /hello              greeting
  /kv/<key>           GET value (404 if absent), PUT body, DELETE
  /exists/<key>       "true" or "false"
  /keys               the default store's keys, sorted, one per line
  /store/<label>      open a store by label: "ok" or the error name
  /var/<name>         a component variable
  /redis              call an interface the runtime does not provide: its error
"""

import re

from spin_sdk import http, key_value, redis, variables
from spin_sdk.http import Request, Response
from spin_sdk.wit.types import Err


def text(status: int, body) -> Response:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Response(status, {"content-type": "text/plain"}, body)


def error_name(err) -> str:
    # spin_sdk error classes are named like `Error_AccessDenied`.
    name = type(err).__name__.removeprefix("Error_")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        path = request.headers.get("spin-path-info", "").strip("/")
        command, _, arg = path.partition("/")
        try:
            if command == "hello":
                return text(200, "Hello from Python!\n")
            if command == "redis":
                redis.open("redis://127.0.0.1:1")
                return text(200, "unreachable: redis is not provided")
            if command == "var":
                return text(200, variables.get(arg))
            if command == "store":
                with key_value.open(arg):
                    return text(200, "ok")
            with key_value.open_default() as store:
                if command == "kv":
                    if request.method == "PUT":
                        store.set(arg, request.body or b"")
                        return text(200, "ok")
                    if request.method == "DELETE":
                        store.delete(arg)
                        return text(200, "ok")
                    value = store.get(arg)
                    if value is None:
                        return text(404, "not found")
                    return Response(200, {"content-type": "application/octet-stream"}, value)
                if command == "exists":
                    return text(200, "true" if store.exists(arg) else "false")
                if command == "keys":
                    return text(200, "\n".join(sorted(store.get_keys())))
            return text(404, "no such test route")
        except Err as e:
            return text(500, error_name(e.value))
