"""Encodings shared by the local Sigstore services: base64, key ids, canonical JSON, DER."""

import base64
import datetime
import hashlib
import json
import time

from cryptography.hazmat.primitives import serialization


# Seconds added to the real clock by every local service (Fulcio validity, SCT, Rekor
# integrated time, TSA genTime); tests set it with POST /admin/clock to make signatures
# that are days old, or from the future, with every piece of evidence agreeing.
CLOCK = {"offset": 0}


def now() -> float:
    return time.time() + CLOCK["offset"]


def utcnow() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(now(), datetime.timezone.utc)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def spki(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key) -> bytes:
    return hashlib.sha256(spki(key)).digest()


def canonical(obj) -> bytes:
    """RFC 8785 for the values used here (strings, integers, objects, arrays)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_utf8(text: str) -> bytes:
    raw = text.encode()
    return b"\x0c" + der_length(len(raw)) + raw


def der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_length(len(content)) + content


def der_seq(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def der_set(*items: bytes) -> bytes:
    return der(0x31, b"".join(sorted(items)))


def der_int(n: int) -> bytes:
    body = n.to_bytes(n.bit_length() // 8 + 1, "big", signed=False) if n else b"\x00"
    return der(0x02, body)


def der_oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, body)


def der_octets(data: bytes) -> bytes:
    return der(0x04, data)


def der_read(data: bytes, pos: int = 0):
    """One TLV at `pos`: (tag, content, next position)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    return tag, data[pos : pos + length], pos + length


def der_children(content: bytes) -> list:
    out, pos = [], 0
    while pos < len(content):
        tag, body, nxt = der_read(content, pos)
        out.append((tag, body, content[pos:nxt]))
        pos = nxt
    return out


SHA256_ALG = der_seq(der_oid("2.16.840.1.101.3.4.2.1"))
ECDSA_SHA256_ALG = der_seq(der_oid("1.2.840.10045.4.3.2"))
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"


class Error(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
