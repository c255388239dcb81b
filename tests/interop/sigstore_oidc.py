"""The local Sigstore instance's OIDC issuer (see sigstore_local.py): ES256 ID tokens for
the local issuer, GitHub Actions' issuer and Sigstore's GitHub login issuer (all signed
with the instance's `oidc_key`), the JWKS, token checks as Fulcio makes them, the
interactive login (authorization code with PKCE S256) and the device flow (RFC 8628).
`OidcIssuer` is mixed into the instance, which owns the key, `base_url`, `codes` and
`devices` it uses.
"""

import hashlib
import json
import os
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from sigstore_common import Error, b64url, b64url_decode, canonical

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


class OidcIssuer:
    """The issuer's endpoints over the instance's `oidc_key`."""

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
