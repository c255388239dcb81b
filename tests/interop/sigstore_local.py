"""A local Sigstore instance for the test suite, on 127.0.0.1 only.

No public Sigstore service can be reached from the tests, so this speaks the real HTTP APIs
that clients use, backed by keys it makes at start-up:

- an OIDC issuer: /.well-known/openid-configuration, /jwks, and POST /token (JSON
  {"sub", "email", "aud", "expires_in"}) issuing ES256 ID tokens; GET /actions-token
  mimics GitHub Actions' ambient token endpoint (bearer request token, ?audience=); the
  interactive login as Dex serves it: GET /auth (authorization code with PKCE S256; the
  user is always dev@example.com; out-of-band redirect shows the code, a localhost
  redirect gets a 302) and POST /token with a form (grant_type=authorization_code); the
  device flow (RFC 8628): POST /device/code, GET /device?user_code= approves, and POST
  /token with grant_type=urn:ietf:params:oauth:grant-type:device_code;
- Fulcio: POST /api/v2/signingCert (CSR or public key + proof of possession) checks the
  token (from the body or `Authorization: Bearer`; signature, issuer, audience
  "sigstore", expiry) and issues a code-signing
  certificate with Fulcio's OID extensions and an embedded SCT signed by a CT log key;
- Rekor v2 (its own log key and tree): POST /api/v2/log/entries (hashedrekord 0.0.2),
  answering with a TransparencyLogEntry (inclusion proof + checkpoint, no SET); the files
  signing_config_v2.json / trust_config_v2.json name it instead of the v1 log;
- Rekor v1: POST /api/v1/log/entries (hashedrekord and dsse 0.0.1), GET
  /api/v1/log/entries?logIndex=, GET /api/v1/log; every entry comes back with its signed
  entry timestamp, an RFC 6962 inclusion proof and a signed checkpoint;
- a timestamp authority (sigstore_tsa.py): POST /api/v1/timestamp (RFC 3161).

Shared encodings (base64, key ids, canonical JSON, DER) are in sigstore_common.py.

It writes trusted_root.json, signing_config.json and trust_config.json (the Sigstore client
formats) into --dir, then prints one JSON line with its base URL, and serves until killed.
Fault injection for tests: POST /admin/fail-fulcio {"status": 503} makes the next Fulcio
call fail with that status; POST /admin/clock {"offset": SECONDS} shifts the clock of
Fulcio, Rekor and the TSA together (old or future-dated signatures).

Tokens (POST /token) may name `iss` = GitHub Actions' issuer and carry workflow `claims`
(repository, job_workflow_ref, workflow_ref, event_name, ref, sha, runner_environment, …):
Fulcio then issues the certificate real Fulcio issues to a workflow (SAN
https://github.com/<job_workflow_ref>, CI extensions 1.3.6.1.4.1.57264.1.9-22).
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from sigstore_common import CLOCK, Error, b64, b64url, b64url_decode, canonical, der_length, der_utf8, key_id, spki, utcnow
from sigstore_common import now as sigstore_now
from sigstore_tsa import TimestampAuthority

OID_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OID_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
OID_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def github_extensions(claims: dict) -> list:
    """Fulcio's CI extensions (1.3.6.1.4.1.57264.1.9 to .22, DER UTF8String) for a GitHub
    Actions token, mapped from its claims as Fulcio's github-workflow issuer type does."""
    gh = "https://github.com/"
    repo = claims.get("repository", "")
    values = {
        9: gh + claims.get("job_workflow_ref", ""),
        10: claims.get("job_workflow_sha"),
        11: claims.get("runner_environment"),
        12: gh + repo,
        13: claims.get("sha"),
        14: claims.get("ref"),
        15: claims.get("repository_id"),
        16: gh + claims.get("repository_owner", repo.split("/")[0]),
        17: claims.get("repository_owner_id"),
        18: gh + claims.get("workflow_ref", ""),
        19: claims.get("workflow_sha"),
        20: claims.get("event_name"),
        21: f"{gh}{repo}/actions/runs/{claims.get('run_id', '1')}/attempts/{claims.get('run_attempt', '1')}",
        22: claims.get("repository_visibility"),
    }
    return [
        x509.UnrecognizedExtension(ObjectIdentifier(f"1.3.6.1.4.1.57264.1.{n}"), der_utf8(v))
        for n, v in values.items()
        if v is not None
    ]
START = "2020-01-01T00:00:00Z"


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


class Instance:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.lock = threading.Lock()
        curve = ec.SECP256R1()
        self.oidc_key = ec.generate_private_key(curve)
        self.ca_key = ec.generate_private_key(curve)
        self.ct_key = ec.generate_private_key(curve)
        self.rekor_key = ec.generate_private_key(curve)
        self.ca_cert = self._root_cert()
        self.tsa = TimestampAuthority()
        self.tree = Merkle()
        self.entries = []  # the Rekor response objects, by log index
        self.rekor2_key = ec.generate_private_key(curve)
        self.tree2 = Merkle()  # the Rekor v2 log: its own key and tree
        self.fail_fulcio = None
        self.actions_request_token = "local-actions-request-token"
        self.codes = {}  # authorization code -> (redirect_uri, PKCE challenge)
        self.devices = {}  # device code -> [user code, approved]

    # --- OIDC -------------------------------------------------------------------------------
    def jwks(self):
        numbers = self.oidc_key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "alg": "ES256",
                    "use": "sig",
                    "kid": "local",
                    "x": b64url(numbers.x.to_bytes(32, "big")),
                    "y": b64url(numbers.y.to_bytes(32, "big")),
                }
            ]
        }

    def issue_token(self, sub: str, email=None, aud="sigstore", expires_in=300, iat=None, iss=None, extra=None) -> str:
        now = int(time.time()) if iat is None else int(iat)
        iss = iss or self.base_url
        if iss not in self.issuers():
            raise Error(400, f"this issuer signs tokens only for {self.issuers()}")
        claims = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "nbf": now, "exp": now + int(expires_in)}
        if email:
            claims["email"] = email
            claims["email_verified"] = True
        for k, v in (extra or {}).items():
            claims.setdefault(k, v)
        header = {"alg": "ES256", "typ": "JWT", "kid": "local"}
        signing_input = f"{b64url(canonical(header))}.{b64url(canonical(claims))}".encode()
        r, s = decode_dss_signature(self.oidc_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return signing_input.decode() + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def check_token(self, token: str) -> dict:
        try:
            header_b64, claims_b64, sig_b64 = token.split(".")
            sig = b64url_decode(sig_b64)
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            self.oidc_key.public_key().verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(b64url_decode(claims_b64))
        except (ValueError, InvalidSignature) as e:
            raise Error(401, f"There was an error processing the identity token: invalid token: {e}")
        if claims.get("iss") not in self.issuers():
            raise Error(401, f"There was an error processing the identity token: unknown issuer {claims.get('iss')!r}")
        aud = claims.get("aud")
        if aud != "sigstore" and not (isinstance(aud, list) and "sigstore" in aud):
            raise Error(401, "There was an error processing the identity token: audience must be \"sigstore\"")
        if claims.get("exp", 0) < time.time():
            raise Error(401, "There was an error processing the identity token: token has expired")
        return claims

    def issuers(self):
        """The issuers this Fulcio trusts, all with the local key: the local URL, and
        GitHub Actions' issuer (workflow certificates as real Fulcio makes them), and
        Sigstore's GitHub login issuer (people signing with their email)."""
        return [self.base_url, GITHUB_ISSUER, "https://github.com/login/oauth"]

    def authorize(self, query: dict):
        """(status, headers, body) for GET /auth."""
        get = lambda k: (query.get(k) or [""])[0]
        if get("response_type") != "code" or get("code_challenge_method") != "S256" or not get("code_challenge"):
            raise Error(400, "expected response_type=code with a S256 PKCE challenge")
        code = b64url(os.urandom(16))
        self.codes[code] = (get("redirect_uri"), get("code_challenge"))
        if get("redirect_uri") == "urn:ietf:wg:oauth:2.0:oob":
            return 200, {"Content-Type": "text/plain"}, f"Login code: {code}\n".encode()
        location = f"{get('redirect_uri')}?code={code}&state={get('state')}"
        return 302, {"Location": location}, b""

    def device_code(self) -> dict:
        device, user = b64url(os.urandom(16)), os.urandom(4).hex().upper()
        self.devices[device] = [user, False]
        return {
            "device_code": device,
            "user_code": user,
            "verification_uri": f"{self.base_url}/device",
            "verification_uri_complete": f"{self.base_url}/device?user_code={user}",
            "expires_in": 300,
            "interval": 1,
        }

    def approve(self, user_code: str) -> bytes:
        for entry in self.devices.values():
            if entry[0] == user_code:
                entry[1] = True
                return b"Approved: you can close this page.\n"
        raise Error(404, "unknown user code")

    def exchange(self, form: dict) -> dict:
        get = lambda k: (form.get(k) or [""])[0]
        if get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code":
            entry = self.devices.get(get("device_code"))
            if entry is None:
                raise Error(400, "invalid_grant")
            if not entry[1]:
                raise Error(400, "authorization_pending")
            del self.devices[get("device_code")]
            return {"id_token": self.issue_token("dev", "dev@example.com"), "token_type": "Bearer"}
        if get("grant_type") != "authorization_code":
            raise Error(400, "unsupported grant_type")
        redirect_uri, challenge = self.codes.pop(get("code"), (None, None))
        if redirect_uri is None or redirect_uri != get("redirect_uri"):
            raise Error(400, "invalid_grant: unknown code or redirect_uri mismatch")
        if b64url(hashlib.sha256(get("code_verifier").encode()).digest()) != challenge:
            raise Error(400, "invalid_grant: the PKCE verifier does not match the challenge")
        return {"id_token": self.issue_token("dev", "dev@example.com"), "access_token": "unused", "token_type": "Bearer"}

    # --- Fulcio -----------------------------------------------------------------------------
    def _root_cert(self):
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spin-tests"), x509.NameAttribute(NameOID.COMMON_NAME, "local-fulcio-root")])
        now = datetime.datetime.now(datetime.timezone.utc)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=60))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )

    def signing_cert(self, request: dict, authorization: str) -> dict:
        if self.fail_fulcio:
            status, self.fail_fulcio = self.fail_fulcio, None
            raise Error(status, "injected failure")
        token = (request.get("credentials") or {}).get("oidcIdentityToken")
        if not token and authorization.startswith("Bearer "):
            token = authorization[len("Bearer "):]
        if not token:
            raise Error(401, "missing identity token (credentials.oidcIdentityToken or Authorization: Bearer)")
        claims = self.check_token(token)
        identity = claims.get("email") if claims.get("email_verified") else None
        if "certificateSigningRequest" in request:
            csr = x509.load_pem_x509_csr(base64.b64decode(request["certificateSigningRequest"]))
            if not csr.is_signature_valid:
                raise Error(400, "the CSR's signature is invalid")
            public_key = csr.public_key()
        else:
            pkr = request.get("publicKeyRequest") or {}
            public_key = serialization.load_pem_public_key(pkr["publicKey"]["content"].encode())
            proof = base64.b64decode(pkr.get("proofOfPossession", ""))
            try:
                public_key.verify(proof, (identity or claims["sub"]).encode(), ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                raise Error(400, "proof of possession does not verify")
        workflow = claims["iss"] == GITHUB_ISSUER and "job_workflow_ref" in claims
        if workflow:
            san = x509.UniformResourceIdentifier("https://github.com/" + claims["job_workflow_ref"])
        else:
            san = x509.RFC822Name(identity) if identity else x509.UniformResourceIdentifier(claims["sub"])
        issuer = claims["iss"]
        now = utcnow().replace(microsecond=0)
        serial = x509.random_serial_number()

        def builder():
            b = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self.ca_cert.subject)
                .public_key(public_key)
                .serial_number(serial)
                .not_valid_before(now)
                .not_valid_after(now + datetime.timedelta(minutes=10))
                .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
                .add_extension(x509.SubjectAlternativeName([san]), critical=True)
                .add_extension(x509.UnrecognizedExtension(OID_ISSUER_V1, issuer.encode()), critical=False)
                .add_extension(x509.UnrecognizedExtension(OID_ISSUER_V2, der_utf8(issuer)), critical=False)
            )
            for ext in github_extensions(claims) if workflow else []:
                b = b.add_extension(ext, critical=False)
            return b

        # The SCT signs the certificate as it is without the SCT extension (RFC 6962's
        # precertificate entry), so build that first, then the final one carrying the SCT.
        tbs = builder().sign(self.ca_key, hashes.SHA256()).tbs_certificate_bytes
        timestamp = int(sigstore_now() * 1000)
        signed = struct.pack("!BBQH", 0, 0, timestamp, 1) + key_id(self.ca_key) + len(tbs).to_bytes(3, "big") + tbs + b"\x00\x00"
        sig = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = b"\x00" + key_id(self.ct_key) + struct.pack("!Q", timestamp) + b"\x00\x00" + b"\x04\x03" + struct.pack("!H", len(sig)) + sig
        sct_list = struct.pack("!H", len(sct) + 2) + struct.pack("!H", len(sct)) + sct
        extension = b"\x04" + der_length(len(sct_list)) + sct_list
        cert = builder().add_extension(x509.UnrecognizedExtension(OID_SCT_LIST, extension), critical=False).sign(self.ca_key, hashes.SHA256())
        pem = lambda c: c.public_bytes(serialization.Encoding.PEM).decode()
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": [pem(cert), pem(self.ca_cert)]}}}

    # --- Rekor v1 ---------------------------------------------------------------------------
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

    # --- trust material ---------------------------------------------------------------------
    def write_trust(self, directory: str):
        def key(k):
            return {"rawBytes": b64(spki(k)), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": START}}

        trusted_root = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                {"baseUrl": self.base_url, "hashAlgorithm": "SHA2_256", "publicKey": key(self.rekor_key), "logId": {"keyId": b64(key_id(self.rekor_key))}},
                {"baseUrl": self.base_url, "hashAlgorithm": "SHA2_256", "publicKey": key(self.rekor2_key), "logId": {"keyId": b64(key_id(self.rekor2_key))}},
            ],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "spin-tests", "commonName": "local-fulcio-root"},
                    "uri": self.base_url,
                    "certChain": {"certificates": [{"rawBytes": b64(self.ca_cert.public_bytes(serialization.Encoding.DER))}]},
                    "validFor": {"start": START},
                }
            ],
            "ctlogs": [{"baseUrl": self.base_url, "hashAlgorithm": "SHA2_256", "publicKey": key(self.ct_key), "logId": {"keyId": b64(key_id(self.ct_key))}}],
            "timestampAuthorities": [
                {
                    "subject": {"organization": "spin-tests", "commonName": "local-tsa"},
                    "uri": f"{self.base_url}/api/v1/timestamp",
                    "certChain": {"certificates": [{"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))} for c in self.tsa.chain()]},
                    "validFor": {"start": START},
                }
            ],
        }

        def service(version):
            return {"url": self.base_url, "majorApiVersion": version, "validFor": {"start": START}, "operator": "spin-tests"}

        signing_config = {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(1)],
            "oidcUrls": [service(1)],
            "rekorTlogUrls": [service(1)],
            "tsaUrls": [dict(service(1), url=f"{self.base_url}/api/v1/timestamp")],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        }
        # The same instance with its Rekor v2 log instead of v1.
        signing_config_v2 = dict(signing_config, rekorTlogUrls=[service(2)])
        trust_config = lambda config: {
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": trusted_root,
            "signingConfig": config,
        }
        files = {
            "trusted_root.json": trusted_root,
            "signing_config.json": signing_config,
            "trust_config.json": trust_config(signing_config),
            "signing_config_v2.json": signing_config_v2,
            "trust_config_v2.json": trust_config(signing_config_v2),
        }
        for name, content in files.items():
            tmp = os.path.join(directory, f".{name}.tmp")
            with open(tmp, "w") as f:
                json.dump(content, f, indent=2)
            os.replace(tmp, os.path.join(directory, name))


def handler(instance: Instance):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def reply(self, status: int, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def raw_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def body(self) -> dict:
            raw = self.raw_body() or b"{}"
            try:
                return json.loads(raw)
            except ValueError:
                raise Error(400, "the request body is not JSON")

        def dispatch(self, method: str):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            try:
                if method == "GET" and url.path == "/.well-known/openid-configuration":
                    return self.reply(200, {"issuer": instance.base_url, "jwks_uri": f"{instance.base_url}/jwks", "authorization_endpoint": f"{instance.base_url}/auth", "token_endpoint": f"{instance.base_url}/token", "id_token_signing_alg_values_supported": ["ES256"]})
                if method == "GET" and url.path == "/jwks":
                    return self.reply(200, instance.jwks())
                if method == "GET" and url.path == "/auth":
                    status, headers, data = instance.authorize(query)
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if method == "POST" and url.path == "/device/code":
                    self.raw_body()
                    return self.reply(200, instance.device_code())
                if method == "GET" and url.path == "/device":
                    data = instance.approve((query.get("user_code") or [""])[0])
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if method == "POST" and url.path == "/token" and self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    form = parse_qs(self.raw_body().decode())
                    if "grant_type" not in form:
                        raise Error(400, "a form token request needs grant_type")
                    try:
                        return self.reply(200, instance.exchange(form))
                    except Error as e:
                        if e.message in ("authorization_pending", "invalid_grant"):
                            return self.reply(400, {"error": e.message})
                        raise
                if method == "POST" and url.path == "/token":
                    req = self.body()
                    return self.reply(200, {"id_token": instance.issue_token(req.get("sub", "spin-tests"), req.get("email"), req.get("aud", "sigstore"), req.get("expires_in", 300), req.get("iat"), req.get("iss"), req.get("claims")), "token_type": "Bearer"})
                if method == "GET" and url.path == "/actions-token":
                    if self.headers.get("Authorization") != f"Bearer {instance.actions_request_token}":
                        raise Error(401, "bad request token")
                    aud = (query.get("audience") or ["sigstore"])[0]
                    sub = "repo:acme/app:ref:refs/heads/main"
                    return self.reply(200, {"value": instance.issue_token(sub, None, aud)})
                if method == "POST" and url.path == "/api/v2/signingCert":
                    return self.reply(200, instance.signing_cert(self.body(), self.headers.get("Authorization", "")))
                if method == "POST" and url.path == "/api/v1/timestamp":
                    data = instance.tsa.timestamp(self.raw_body())
                    self.send_response(200)
                    self.send_header("Content-Type", "application/timestamp-reply")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if method == "POST" and url.path == "/api/v2/log/entries":
                    return self.reply(201, instance.add_entry_v2(self.body()))
                if method == "POST" and url.path == "/api/v1/log/entries":
                    return self.reply(201, instance.add_entry(self.body()))
                if method == "GET" and url.path == "/api/v1/log/entries":
                    index = int((query.get("logIndex") or ["-1"])[0])
                    if not 0 <= index < len(instance.entries):
                        raise Error(404, "no such entry")
                    with instance.lock:
                        return self.reply(200, instance.with_proof(index))
                if method == "GET" and url.path == "/api/v1/log":
                    return self.reply(200, instance.log_info())
                if method == "POST" and url.path == "/admin/clock":
                    CLOCK["offset"] = int(self.body().get("offset", 0))
                    return self.reply(200, {})
                if method == "POST" and url.path == "/admin/fail-fulcio":
                    instance.fail_fulcio = int(self.body().get("status", 500))
                    return self.reply(200, {})
                raise Error(404, f"no route {method} {url.path}")
            except Error as e:
                sys.stderr.write(f"{method} {url.path}: {e.status} {e.message}\n")
                self.reply(e.status, {"code": e.status, "message": e.message})
            except (KeyError, TypeError, ValueError) as e:
                sys.stderr.write(f"{method} {url.path}: 400 malformed request: {e!r}\n")
                self.reply(400, {"code": 400, "message": f"malformed request: {e!r}"})

        def do_GET(self):
            self.dispatch("GET")

        def do_POST(self):
            self.dispatch("POST")

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="where to write the trust files")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    instance = Instance(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = handler(instance)
    instance.write_trust(args.dir)
    print(json.dumps({"url": instance.base_url, "actions_request_token": instance.actions_request_token}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
