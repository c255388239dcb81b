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

The OIDC issuer is in sigstore_oidc.py, the Rekor logs in sigstore_rekor.py, and shared
encodings (base64, key ids, canonical JSON, DER) in sigstore_common.py.

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
import json
import os
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from sigstore_common import CLOCK, Error, b64, der_length, der_utf8, key_id, spki, utcnow
from sigstore_common import now as sigstore_now
from sigstore_oidc import GITHUB_ISSUER, OidcIssuer
from sigstore_rekor import Merkle, RekorLogs
from sigstore_tsa import TimestampAuthority

OID_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OID_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
OID_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


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


class Instance(OidcIssuer, RekorLogs):
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
