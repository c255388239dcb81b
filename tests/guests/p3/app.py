# A WASI P3 HTTP service (`wasi:http/service@0.3.0`) built with componentize-py 0.25.1 and
# no SDK. Routes:
#   /echo          streams the request body back as the response body
#   /outbound?URL  GET URL with wasi:http/client@0.3.0: "<status>\n<body>", or 502 + the
#                  error's name
#   /loop          never returns (the request timeout must stop it)
#   /bomb          allocates without bound (the memory limit must stop it)
#   /count         how many /count requests this instance has served (instance reuse)
#   anything else  200 "Hello from a P3 component!\n"
import wit_world
from wit_world import exports
from wit_world.imports import client
from wit_world.imports.wasi_http_types import (
    Fields,
    Method_Get,
    Request,
    Response,
    Scheme_Http,
    Scheme_Https,
)
from componentize_py_async_support import spawn
from componentize_py_types import Err, Ok


def text_response(status: int, body: bytes) -> Response:
    tx, rx = wit_world.byte_stream()
    trailers_tx, trailers_rx = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
        lambda: Ok(None)
    )
    response, _ = Response.new(Fields.from_list([("content-type", b"text/plain")]), rx, trailers_rx)
    response.set_status_code(status)

    async def write() -> None:
        with tx:
            await tx.write_all(body)
        await trailers_tx.write(Ok(None))

    spawn(write())
    return response


async def outbound(url: str) -> Response:
    scheme, rest = url.split("://", 1)
    authority, _, path = rest.partition("/")
    _, trailers = wit_world.result_option_wasi_http_types_fields_wasi_http_types_error_code_future(
        lambda: Ok(None)
    )
    request, _ = Request.new(Fields(), None, trailers, None)
    request.set_method(Method_Get())
    request.set_scheme(Scheme_Https() if scheme == "https" else Scheme_Http())
    request.set_authority(authority)
    request.set_path_with_query("/" + path)
    try:
        response = await client.send(request)
    except Err as e:
        return text_response(502, type(e.value).__name__.encode())
    status = response.get_status_code()
    _, done = wit_world.result_unit_wasi_http_types_error_code_future(lambda: Ok(None))
    body, _ = Response.consume_body(response, done)
    data = b""
    with body:
        while True:
            chunk = await body.read(65536)
            if not chunk:
                break
            data += chunk
    return text_response(200, str(status).encode() + b"\n" + data)


COUNT = 0


class Handler(exports.Handler):
    async def handle(self, request: Request) -> Response:
        global COUNT
        path = request.get_path_with_query() or "/"
        if path.startswith("/count"):
            COUNT += 1
            return text_response(200, str(COUNT).encode())
        if path.startswith("/echo"):
            _, done = wit_world.result_unit_wasi_http_types_error_code_future(lambda: Ok(None))
            body, trailers = Request.consume_body(request, done)
            response, _ = Response.new(Fields(), body, trailers)
            return response
        if path.startswith("/outbound?"):
            return await outbound(path.split("?", 1)[1])
        if path.startswith("/loop"):
            while True:
                pass
        if path.startswith("/bomb"):
            hog = []
            while True:
                hog.append(bytearray(1 << 20))
        return text_response(200, b"Hello from a P3 component!\n")
