"""Redis-triggered test guest on Spin 4's Python SDK (spin-sdk 5.0.0, componentize-py 0.25.1,
`spin:up/redis-trigger@4.1.0`: exports `spin:redis/inbound-redis@3.0.0`, async).

Each message is appended to the default store's `redis3-messages` (one per line); `fail`
returns the interface's error after being recorded.
"""

from componentize_py_types import Err
from spin_sdk import key_value
from spin_sdk.wit import exports
from spin_sdk.wit.imports import spin_redis_redis_3_0_0 as redis3


class RedisHandler(exports.RedisHandler):
    async def handle_message(self, message: bytes) -> None:
        with await key_value.open_default() as store:
            seen = await store.get("redis3-messages") or b""
            await store.set("redis3-messages", seen + message + b"\n")
        if message == b"fail":
            raise Err(redis3.Error_Other("asked to fail"))
