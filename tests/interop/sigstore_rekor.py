"""The local Sigstore instance's transparency logs (see sigstore_local.py): Rekor v1
(hashedrekord and dsse 0.0.1 entries with signed entry timestamps, RFC 6962 inclusion
proofs and signed checkpoints) and Rekor v2 (hashedrekord 0.0.2, its own key and tree, no
signed entry timestamp). `RekorLogs` is mixed into the instance, which owns the keys,
trees, entries and lock it uses.
"""

import base64
import hashlib
import json

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from sigstore_common import Error, b64, canonical, key_id
from sigstore_common import now as sigstore_now


class Merkle:
    """An RFC 6962 Merkle tree over the log's leaves."""

    def __init__(self):
        self.leaves = []

    @staticmethod
    def leaf_hash(data: bytes) -> bytes:
        return hashlib.sha256(b"\x00" + data).digest()

    @staticmethod
    def node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + left + right).digest()

    def root(self, leaves=None) -> bytes:
        leaves = self.leaves if leaves is None else leaves
        if len(leaves) == 1:
            return leaves[0]
        k = 1 << ((len(leaves) - 1).bit_length() - 1)
        return self.node(self.root(leaves[:k]), self.root(leaves[k:]))

    def path(self, index: int, leaves=None) -> list:
        leaves = self.leaves if leaves is None else leaves
        if len(leaves) == 1:
            return []
        k = 1 << ((len(leaves) - 1).bit_length() - 1)
        if index < k:
            return self.path(index, leaves[:k]) + [self.root(leaves[k:])]
        return self.path(index - k, leaves[k:]) + [self.root(leaves[:k])]


class RekorLogs:
    """Rekor v1 and v2 over the instance's `rekor_key`/`tree`/`entries` and
    `rekor2_key`/`tree2`, under its `lock`."""

    @staticmethod
    def canonical_verifier(content_b64: str):
        """(public key, base64 of the canonical PEM) for a base64 PEM certificate or public
        key, re-encoded as Rekor does, so entries compare equal whoever wrote the PEM."""
        raw = base64.b64decode(content_b64)
        try:
            cert = x509.load_pem_x509_certificate(raw)
            return cert.public_key(), b64(cert.public_bytes(serialization.Encoding.PEM))
        except ValueError:
            key = serialization.load_pem_public_key(raw)
            pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            return key, b64(pem)

    def canonical_body(self, proposed: dict) -> dict:
        kind, version = proposed.get("kind"), proposed.get("apiVersion")
        spec = proposed.get("spec") or {}
        if (kind, version) == ("hashedrekord", "0.0.1"):
            signature = spec["signature"]
            public_key, verifier = self.canonical_verifier(signature["publicKey"]["content"])
            digest = bytes.fromhex(spec["data"]["hash"]["value"])
            sig = base64.b64decode(signature["content"])
            try:
                public_key.verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            except InvalidSignature:
                raise Error(400, "the signature does not verify against the artifact hash")
            return {
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                    "signature": {"content": b64(sig), "publicKey": {"content": verifier}},
                },
            }
        if (kind, version) == ("dsse", "0.0.1"):
            proposed_content = spec["proposedContent"]
            envelope = json.loads(proposed_content["envelope"])
            payload = base64.b64decode(envelope["payload"])
            pae = b"DSSEv1 %d %s %d %s" % (len(envelope["payloadType"]), envelope["payloadType"].encode(), len(payload), payload)
            signatures = []
            for sig, verifier in zip(envelope["signatures"], proposed_content["verifiers"]):
                public_key, verifier = self.canonical_verifier(verifier)
                raw_sig = base64.b64decode(sig["sig"])
                try:
                    public_key.verify(raw_sig, pae, ec.ECDSA(hashes.SHA256()))
                except InvalidSignature:
                    raise Error(400, "a DSSE signature does not verify")
                signatures.append({"signature": b64(raw_sig), "verifier": verifier})
            return {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(canonical(envelope)).hexdigest()},
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                    "signatures": signatures,
                },
            }
        raise Error(400, f"unsupported entry kind {kind} {version}")

    def checkpoint(self, size: int, root: bytes, key=None, name="local-rekor") -> str:
        key = key or self.rekor_key
        note = f"127.0.0.1 - {name}\n{size}\n{b64(root)}\n"
        sig = key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        return f"{note}\n\u2014 {name} {b64(key_id(key)[:4] + sig)}\n"

    def add_entry_v2(self, request: dict) -> dict:
        """Rekor v2: a hashedrekord/0.0.2 entry, returned as a TransparencyLogEntry with an
        inclusion proof and checkpoint (no signed entry timestamp: time comes from a TSA)."""
        req = request.get("hashedRekordRequestV002")
        if req is None:
            raise Error(400, "only hashedRekordRequestV002 entries are supported")
        digest = base64.b64decode(req["digest"])
        sig = base64.b64decode(req["signature"]["content"])
        verifier = req["signature"]["verifier"]
        if "x509Certificate" in verifier:
            public_key = x509.load_der_x509_certificate(base64.b64decode(verifier["x509Certificate"]["rawBytes"])).public_key()
        else:
            public_key = serialization.load_der_public_key(base64.b64decode(verifier["publicKey"]["rawBytes"]))
        try:
            public_key.verify(sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        except InvalidSignature:
            raise Error(400, "the signature does not verify against the artifact digest")
        body = canonical({
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": {"hashedRekordV002": {
                "data": {"algorithm": "SHA2_256", "digest": b64(digest)},
                "signature": {"content": b64(sig), "verifier": verifier},
            }},
        })
        with self.lock:
            index = len(self.tree2.leaves)
            self.tree2.leaves.append(Merkle.leaf_hash(body))
            size, root = len(self.tree2.leaves), self.tree2.root()
            return {
                "logIndex": str(index),
                "logId": {"keyId": b64(key_id(self.rekor2_key))},
                "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
                "inclusionProof": {
                    "logIndex": str(index),
                    "rootHash": b64(root),
                    "treeSize": str(size),
                    "hashes": [b64(h) for h in self.tree2.path(index)],
                    "checkpoint": {"envelope": self.checkpoint(size, root, self.rekor2_key, "local-rekor-v2")},
                },
                "canonicalizedBody": b64(body),
            }

    def with_proof(self, index: int) -> dict:
        entry = json.loads(json.dumps(self.entries[index]))
        ((uuid, value),) = entry.items()
        size = len(self.tree.leaves)
        root = self.tree.root()
        value["verification"]["inclusionProof"] = {
            "logIndex": index,
            "rootHash": root.hex(),
            "treeSize": size,
            "hashes": [h.hex() for h in self.tree.path(index)],
            "checkpoint": self.checkpoint(size, root),
        }
        return entry

    def add_entry(self, proposed: dict) -> dict:
        body = canonical(self.canonical_body(proposed))
        body_b64 = b64(body)
        with self.lock:
            index = len(self.tree.leaves)
            leaf = Merkle.leaf_hash(body)
            self.tree.leaves.append(leaf)
            integrated = int(sigstore_now())
            log_id = key_id(self.rekor_key).hex()
            set_payload = canonical({"body": body_b64, "integratedTime": integrated, "logID": log_id, "logIndex": index})
            entry = {
                leaf.hex(): {
                    "body": body_b64,
                    "integratedTime": integrated,
                    "logID": log_id,
                    "logIndex": index,
                    "verification": {"signedEntryTimestamp": b64(self.rekor_key.sign(set_payload, ec.ECDSA(hashes.SHA256())))},
                }
            }
            self.entries.append(entry)
            return self.with_proof(index)

    def log_info(self) -> dict:
        with self.lock:
            size = len(self.tree.leaves)
            root = self.tree.root() if size else hashlib.sha256(b"").digest()
            return {"rootHash": root.hex(), "treeSize": size, "signedTreeHead": self.checkpoint(size, root), "treeID": "1"}
