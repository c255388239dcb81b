"""A Docker registry token server for the tests (the bearer flow GHCR and Docker Hub use).

    token_server.py PORT KEY_PEM CERT_PEM ISSUER SERVICE USER:PASS REFRESH_TOKEN EXPIRES_IN

GET /token?service=..&scope=..   with basic auth USER:PASS          -> {"token", "expires_in"}
POST /token (form)               grant_type=refresh_token|password  -> {"access_token", ...}
Tokens are ES256 JWTs whose x5c header carries CERT_PEM, which the registry trusts. Each
token issued is logged to stdout as "issued <scope>" so tests can count refreshes.
"""

import base64
import json
import sys
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

port, key_pem, cert_pem, issuer, service, userpass, refresh, expires_in = sys.argv[1:9]
expires_in = int(expires_in)
key = serialization.load_pem_private_key(open(key_pem, "rb").read(), password=None)
cert = x509.load_pem_x509_certificate(open(cert_pem, "rb").read())
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_for(scopes, subject):
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) == 3:
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    now = int(time.time())
    # The registry allows 60 s of clock skew past `exp`; shift so tokens really last
    # `expires_in` seconds.
    claims = {"iss": issuer, "sub": subject, "aud": service, "exp": now + expires_in - 60,
              "nbf": now - 5, "iat": now, "jti": str(uuid.uuid4()), "access": access}
    header = {"typ": "JWT", "alg": "ES256", "x5c": [x5c]}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    print("issued " + " ".join(scopes), flush=True)
    return signing_input + "." + b64url(signature)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized_user(self):
        header = self.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:]).decode()
            if decoded == userpass:
                return decoded.split(":")[0]
        return None

    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        user = self.authorized_user()
        if user is None:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
        token = token_for(query.get("scope", []), user)
        self.reply(200, {"token": token, "access_token": token, "expires_in": expires_in})

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        grant = form.get("grant_type", [""])[0]
        if grant == "refresh_token" and form.get("refresh_token", [""])[0] == refresh:
            subject = "identity-token-user"
        elif grant == "password" and f"{form.get('username', [''])[0]}:{form.get('password', [''])[0]}" == userpass:
            subject = form["username"][0]
        else:
            return self.reply(401, {"error": "invalid_grant"})
        scopes = form.get("scope", [""])[0].split(" ")
        token = token_for([s for s in scopes if s], subject)
        self.reply(200, {"access_token": token, "expires_in": expires_in, "refresh_token": refresh})


ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
