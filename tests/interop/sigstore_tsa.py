"""The local RFC 3161 timestamp authority: its own root and leaf certificate (EKU
timeStamping, critical), and ECDSA-signed CMS TimeStampResp tokens carrying the ESS
signing-certificate-v2 attribute, for any SHA-256 message imprint."""

import datetime
import hashlib
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sigstore_common import (
    ECDSA_SHA256_ALG,
    OID_TST_INFO,
    SHA256_ALG,
    Error,
    der,
    der_children,
    utcnow,
    der_int,
    der_octets,
    der_oid,
    der_read,
    der_seq,
    der_set,
)


class TimestampAuthority:
    def __init__(self):
        self.lock = threading.Lock()
        self.tsa_root_key = ec.generate_private_key(ec.SECP256R1())
        self.tsa_key = ec.generate_private_key(ec.SECP256R1())
        self.tsa_root, self.tsa_cert = self._tsa_certs()
        self.tsa_serial = 0

    def chain(self) -> list:
        """The certificates, leaf first, as a trusted root lists them."""
        return [self.tsa_cert, self.tsa_root]

    def _tsa_certs(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        root_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spin-tests"), x509.NameAttribute(NameOID.COMMON_NAME, "local-tsa-root")])
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(self.tsa_root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=60))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.tsa_root_key.public_key()), critical=False)
            .sign(self.tsa_root_key, hashes.SHA256())
        )
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spin-tests"), x509.NameAttribute(NameOID.COMMON_NAME, "local-tsa")]))
            .issuer_name(root_name)
            .public_key(self.tsa_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.tsa_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.tsa_root_key.public_key()), critical=False)
            .sign(self.tsa_root_key, hashes.SHA256())
        )
        return root, leaf

    def timestamp(self, request: bytes) -> bytes:
        """A TimeStampResp (RFC 3161) for a DER TimeStampReq."""
        try:
            tag, req, _ = der_read(request)
            fields = der_children(req)
            imprint = fields[1][2]
            hashed = der_children(fields[1][1])[1][1]
            if der_children(fields[1][1])[0][2] != SHA256_ALG and der_children(der_children(fields[1][1])[0][1])[0][2] != der_oid("2.16.840.1.101.3.4.2.1"):
                raise Error(400, "only SHA-256 message imprints are supported")
            if len(hashed) != 32:
                raise Error(400, "the message imprint is not a SHA-256 digest")
            nonce = next((raw for t, _, raw in fields[2:] if t == 0x02), None)
            cert_req = any(t == 0x01 and body == b"\xff" for t, body, _ in fields[2:])
        except (IndexError, ValueError):
            raise Error(400, "malformed TimeStampReq")
        with self.lock:
            self.tsa_serial += 1
            serial = self.tsa_serial
        gen_time = utcnow().strftime("%Y%m%d%H%M%SZ").encode()
        tst_info = der_seq(
            der_int(1),
            der_oid("1.3.6.1.4.1.57264.2"),
            imprint,
            der_int(serial),
            der(0x18, gen_time),
            *([nonce] if nonce else []),
        )
        cert_der = self.tsa_cert.public_bytes(serialization.Encoding.DER)
        signed_attrs = [
            der_seq(der_oid("1.2.840.113549.1.9.3"), der_set(der_oid(OID_TST_INFO))),
            der_seq(der_oid("1.2.840.113549.1.9.4"), der_set(der_octets(hashlib.sha256(tst_info).digest()))),
            der_seq(
                der_oid("1.2.840.113549.1.9.16.2.47"),
                der_set(der_seq(der_seq(der_seq(der_octets(hashlib.sha256(cert_der).digest()))))),
            ),
        ]
        signature = self.tsa_key.sign(der_set(*signed_attrs), ec.ECDSA(hashes.SHA256()))
        issuer_der = self.tsa_cert.issuer.public_bytes()
        signer_info = der_seq(
            der_int(1),
            der_seq(issuer_der, der_int(self.tsa_cert.serial_number)),
            SHA256_ALG,
            der(0xA0, b"".join(sorted(signed_attrs))),
            ECDSA_SHA256_ALG,
            der_octets(signature),
        )
        certificates = der(0xA0, cert_der) if cert_req else b""
        signed_data = der_seq(
            der_int(3),
            der_set(SHA256_ALG),
            der_seq(der_oid(OID_TST_INFO), der(0xA0, der_octets(tst_info))),
            certificates,
            der_set(signer_info),
        )
        token = der_seq(der_oid("1.2.840.113549.1.7.2"), der(0xA0, signed_data))
        return der_seq(der_seq(der_int(0)), token)
