//! `spin sign-bundle` / `spin verify-bundle`: sign a file (or only its `sha256:<hex>`
//! digest) keylessly into a Sigstore bundle, and verify a bundle against the file or
//! digest with an expected identity and issuer, or a public key. The command-line shape
//! follows the sigstore-conformance client protocol.

use crate::identity::redact;
use crate::instance::Instance;
use crate::{Error, Result, io};
use sha2::Digest as _;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::types::{Artifact, Bundle, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy};

use std::path::{Path, PathBuf};

/// What is signed or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file's bytes.
    File(PathBuf),
    /// Only a SHA-256 digest, written `sha256:<64 hex digits>`.
    Digest([u8; 32]),
}

impl Input {
    /// `sha256:<hex>` is a digest; anything else is a path.
    pub fn parse(arg: &str) -> Result<Self> {
        let Some(hex_digest) = arg.strip_prefix("sha256:") else {
            return Ok(Self::File(PathBuf::from(arg)));
        };
        let bytes = hex::decode(hex_digest)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        bytes.map(Self::Digest).ok_or_else(|| {
            Error::Input(format!(
                "{arg:?} is not a SHA-256 digest\n  help: write sha256: followed by 64 hex digits, or give a file path"
            ))
        })
    }

    /// The SHA-256 of the input (reading the file if it is one).
    pub fn sha256(&self) -> Result<[u8; 32]> {
        match self {
            Self::Digest(d) => Ok(*d),
            Self::File(path) => {
                let mut file = std::fs::File::open(path).map_err(io(path))?;
                let mut hasher = sha2::Sha256::new();
                std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
                Ok(hasher.finalize().into())
            }
        }
    }
}

pub(crate) fn signing_error(e: sigstore_sign::Error) -> Error {
    use sigstore_sign::Error as E;
    let (what, help) = match &e {
        E::Fulcio(_) => (
            "the certificate authority (Fulcio) did not issue a signing certificate",
            "check that the identity token is fresh, for audience `sigstore`, and from an issuer this Fulcio trusts",
        ),
        E::Rekor(_) => (
            "the transparency log (Rekor) did not record the signature",
            "retry; if it persists, check the Rekor URL in the signing config",
        ),
        E::Tsa(_) => (
            "the timestamp authority did not issue a timestamp",
            "retry, or use a signing config without a TSA",
        ),
        E::Oidc(_) => (
            "the identity token could not be obtained",
            "pass --identity-token or set SIGSTORE_ID_TOKEN",
        ),
        _ => ("signing failed", "see the cause above"),
    };
    Error::Signing(format!(
        "{what}: {}\n  help: {help}",
        redact(&e.to_string())
    ))
}

/// Write `contents` to `path` atomically (temp file in the same folder, then rename).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    spin_app::fsutil::write_atomic(path, contents).map_err(io(path))
}

/// Sign `input` keylessly with `instance`'s services and write the bundle to `bundle_out`.
pub async fn sign(
    instance: &Instance,
    token: IdentityToken,
    input: &Input,
    bundle_out: &Path,
) -> Result<Bundle> {
    let signer = instance.signing_context()?.signer(token);
    let bundle = match input {
        Input::File(path) => {
            let file = std::fs::File::open(path).map_err(io(path))?;
            signer.sign_reader(std::io::BufReader::new(file)).await
        }
        Input::Digest(d) => {
            signer
                .sign(Artifact::from_digest(Sha256Hash::new(*d)))
                .await
        }
    }
    .map_err(signing_error)?;
    let json = bundle
        .to_json_pretty()
        .map_err(|e| Error::Signing(format!("cannot serialize the bundle: {e}")))?;
    write_atomic(bundle_out, json.as_bytes())?;
    Ok(bundle)
}

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Expected {
    /// A certificate for this identity (email, URI) from this OIDC issuer.
    Identity {
        /// The certificate's SAN.
        identity: String,
        /// The OIDC issuer recorded in the certificate.
        issuer: String,
    },
    /// This public key (PEM, SubjectPublicKeyInfo).
    Key {
        /// The key file.
        path: PathBuf,
        /// Whether a transparency log entry is required (off only for air-gapped signing).
        require_tlog: bool,
    },
}

/// Read a bundle file.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    parse_bundle(&text).map_err(|e| {
        Error::Verification(format!(
            "{} is not a valid Sigstore bundle: {e}\n  help: pass the .sigstore.json file the signer wrote",
            path.display()
        ))
    })
}

/// Base64 fields of a bundle: line breaks in them are dropped before parsing, as the
/// protobuf JSON readers of other Sigstore clients do (`base64` wraps at 76 columns).
const BASE64_FIELDS: &[&str] = &[
    "rawBytes",
    "signedTimestamp",
    "signature",
    "sig",
    "payload",
    "canonicalizedBody",
    "signedEntryTimestamp",
    "digest",
    "keyId",
    "rootHash",
    "hashes",
];

fn unwrap_base64(v: &mut serde_json::Value, in_field: bool) {
    match v {
        serde_json::Value::String(s) if in_field && s.contains(['\n', '\r']) => {
            s.retain(|c| c != '\n' && c != '\r');
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|i| unwrap_base64(i, in_field))
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                unwrap_base64(v, BASE64_FIELDS.contains(&k.as_str()));
            }
        }
        _ => {}
    }
}

/// Parse a bundle's JSON, and refuse a certificate chain that is empty or carries a
/// self-signed (root) certificate: trust anchors come from the trusted root, never from
/// the bundle.
pub fn parse_bundle(text: &str) -> std::result::Result<Bundle, String> {
    let mut json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("JSON error: {e}"))?;
    unwrap_base64(&mut json, false);
    if let Some(chain) =
        json["verificationMaterial"]["x509CertificateChain"]["certificates"].as_array()
    {
        if chain.is_empty() {
            return Err("its certificate chain is empty".into());
        }
        for cert in chain {
            let der = cert["rawBytes"]
                .as_str()
                .and_then(|b| {
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok()
                })
                .ok_or("a certificate in its chain is not base64")?;
            use x509_cert::der::Decode;
            let cert = x509_cert::Certificate::from_der(&der)
                .map_err(|e| format!("a certificate in its chain is not X.509: {e}"))?;
            if cert.tbs_certificate.subject == cert.tbs_certificate.issuer {
                return Err("its certificate chain contains a self-signed root certificate; roots come from the trusted root, not the bundle".into());
            }
        }
    }
    Bundle::from_json(&json.to_string()).map_err(|e| e.to_string())
}

/// Verify `bundle` for `input` against `expected` with `instance`'s trust material.
pub fn verify(
    instance: &Instance,
    bundle: &Bundle,
    input: &Input,
    expected: &Expected,
) -> Result<()> {
    let verifier = instance.verifier()?;
    match expected {
        Expected::Identity { identity, issuer } => check(
            &verifier,
            bundle,
            input,
            &VerificationPolicy::new(identity.as_str(), issuer.as_str()),
        ),
        Expected::Key { path, require_tlog } => {
            let key = crate::keys::read_public(path).map_err(|e| {
                Error::Verification(sigstore_verify::Error::UnsupportedArtifact(e).to_string())
            })?;
            let policy = PublicKeyVerificationPolicy::new(key);
            let policy = if *require_tlog {
                policy
            } else {
                policy.skip_tlog_unsafe()
            };
            check(&verifier, bundle, input, &policy)
        }
    }
}

/// Run `verifier` on the digest, or on the file streamed from disk.
fn check(
    verifier: &sigstore_verify::Verifier,
    bundle: &Bundle,
    input: &Input,
    policy: &impl sigstore_verify::Policy,
) -> Result<()> {
    let result = match input {
        Input::Digest(d) => {
            verifier.verify(Artifact::from_digest(Sha256Hash::new(*d)), bundle, policy)
        }
        Input::File(path) => {
            let file = std::fs::File::open(path).map_err(io(path))?;
            verifier.verify_reader(std::io::BufReader::new(file), bundle, policy)
        }
    };
    result
        .map(|_| ())
        .map_err(|e| Error::Verification(e.to_string()))
}

/// Sign `input` with a private key into a bundle whose verification material is the key's
/// hint (its SHA-256, base64). With `tlog`, the signature is recorded in the instance's
/// Rekor (v1 hashedrekord with the public key) and the bundle carries the entry. Without it
/// (air-gapped, with the site's own timestamp authority in the signing config) the bundle
/// carries an RFC 3161 timestamp instead, and verifiers must be told to accept bundles
/// without log entries; a Sigstore bundle always needs one of the two.
pub async fn sign_with_key(
    instance: &Instance,
    key: &crate::keys::SigningKey,
    input: &Input,
    bundle_out: &Path,
    tlog: bool,
) -> Result<Bundle> {
    let bundle = bundle_with_key(instance, key, Sha256Hash::new(input.sha256()?), tlog).await?;
    let json = bundle
        .to_json_pretty()
        .map_err(|e| Error::Signing(format!("cannot serialize the bundle: {e}")))?;
    write_atomic(bundle_out, json.as_bytes())?;
    Ok(bundle)
}

/// A message-signature bundle over `digest`, signed with the key (see [`sign_with_key`]).
pub async fn bundle_with_key(
    instance: &Instance,
    key: &crate::keys::SigningKey,
    digest: Sha256Hash,
    tlog: bool,
) -> Result<Bundle> {
    use sigstore_sign::bundle::{BundleV03, VerificationMaterialV03};
    use sigstore_sign::types::bundle::{MessageDigest, MessageSignature, SignatureContent};
    let signature = key
        .pair
        .sign_digest(&digest)
        .map_err(|e| Error::Signing(format!("signing with the key failed: {e}")))?;
    let mut bundle = BundleV03::new(
        VerificationMaterialV03::PublicKey {
            hint: key_hint(key),
        },
        SignatureContent::MessageSignature(
            MessageSignature::new(signature.clone()).with_message_digest(MessageDigest::new(
                sigstore_sign::types::HashAlgorithm::Sha2256,
                digest.into(),
            )),
        ),
    );
    let rekor_v2 = tlog && rekor_major(instance)? == 2;
    if tlog {
        bundle = bundle.with_tlog_entry(record_with_key(instance, key, &digest, &signature).await?);
    }
    // Rekor v2 entries carry no signed entry timestamp: the time comes from the TSA.
    if !tlog || rekor_v2 {
        bundle = bundle.with_rfc3161_timestamp(timestamp(instance, &signature).await?);
    }
    Ok(bundle.into_bundle())
}

/// The major API version of the instance's Rekor.
fn rekor_major(instance: &Instance) -> Result<u32> {
    Ok(instance.services()?.rekor_api_version().major())
}

/// A DSSE envelope over `payload`, signed with the key, as a bundle: recorded in Rekor as
/// a `dsse` entry, or with `tlog` off timestamped by the instance's TSA.
pub async fn sign_dsse_with_key(
    instance: &Instance,
    key: &crate::keys::SigningKey,
    payload_type: &str,
    payload: &[u8],
    tlog: bool,
) -> Result<Bundle> {
    use sigstore_sign::bundle::{BundleV03, VerificationMaterialV03};
    use sigstore_sign::types::bundle::SignatureContent;
    use sigstore_sign::types::{DsseEnvelope, DsseSignature, KeyId, PayloadBytes};
    let pae = sigstore_sign::types::dsse::pae(payload_type, payload);
    let signature = key
        .pair
        .sign(&pae)
        .map_err(|e| Error::Signing(format!("signing with the key failed: {e}")))?;
    let envelope = DsseEnvelope::new(
        payload_type,
        PayloadBytes::from_bytes(payload),
        DsseSignature::new(signature.clone(), KeyId::default()),
    );
    let bundle = BundleV03::new(
        VerificationMaterialV03::PublicKey {
            hint: key_hint(key),
        },
        SignatureContent::DsseEnvelope(envelope.clone()),
    );
    let bundle = if tlog {
        use base64::Engine;
        let envelope_json = serde_json::to_string(&envelope)
            .map_err(|e| Error::Signing(format!("cannot encode the envelope: {e}")))?;
        let request = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {"proposedContent": {
                "envelope": envelope_json,
                "verifiers": [base64::engine::general_purpose::STANDARD.encode(key.public_pem())],
            }},
        });
        bundle.with_tlog_entry(
            record(
                instance,
                request,
                sigstore_sign::types::bundle::KindVersion::DsseV001,
            )
            .await?,
        )
    } else {
        bundle.with_rfc3161_timestamp(timestamp(instance, &signature).await?)
    };
    Ok(bundle.into_bundle())
}

/// The public key hint of a bundle signed with `key`: its SHA-256, base64.
fn key_hint(key: &crate::keys::SigningKey) -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        sha2::Sha256::digest(&key.public_der),
    )
}

/// An RFC 3161 timestamp over `signature` from the instance's TSA.
async fn timestamp(
    instance: &Instance,
    signature: &sigstore_sign::types::SignatureBytes,
) -> Result<sigstore_sign::types::TimestampToken> {
    let services = instance.services()?;
    let url = services.tsa_url().ok_or_else(|| {
        Error::Signing(
            "without a transparency log entry the bundle needs a signed timestamp, and the signing config names no timestamp authority\n  help: pass --signing-config with your timestamp authority, or keep --tlog-upload".into(),
        )
    })?;
    let client = sigstore_sign::tsa::TimestampClient::builder(url)
        .with_http_client(instance.http_client()?)
        .build()
        .map_err(|e| Error::Signing(format!("cannot reach the timestamp authority: {e}")))?;
    client.timestamp_signature(signature).await.map_err(|e| {
        Error::Signing(format!(
            "the timestamp authority did not issue a timestamp: {e}\n  help: check the TSA URL in the signing config"
        ))
    })
}

/// Record a key-made signature as a hashedrekord entry (Rekor v1 or v2).
async fn record_with_key(
    instance: &Instance,
    key: &crate::keys::SigningKey,
    digest: &Sha256Hash,
    signature: &sigstore_sign::types::SignatureBytes,
) -> Result<sigstore_sign::types::TransparencyLogEntry> {
    use base64::Engine;
    let services = instance.services()?;
    if services.rekor_api_version().major() == 2 {
        use sigstore_sign::rekor::{HashedRekordV2, RekorV2Client, RekorV2KeyDetails};
        let fail = |e: String| {
            Error::Signing(format!(
                "the transparency log (Rekor v2) did not record the signature: {e}"
            ))
        };
        let client = RekorV2Client::builder(services.rekor_url())
            .with_http_client(instance.http_client()?)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let public = sigstore_sign::types::DerPublicKey::new(key.public_der.clone());
        let request = HashedRekordV2::new_with_public_key(
            digest,
            signature,
            &public,
            RekorV2KeyDetails::PkixEcdsaP256Sha256,
        );
        return client
            .create_entry(request)
            .await
            .map_err(|e| fail(e.to_string()));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let request = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
            "signature": {
                "content": b64.encode(signature.as_bytes()),
                "publicKey": {"content": b64.encode(key.public_pem())},
            },
        },
    });
    record(
        instance,
        request,
        sigstore_sign::types::bundle::KindVersion::HashedRekordV001,
    )
    .await
}

/// Submit a proposed entry to the instance's Rekor v1 and return it as a bundle entry.
async fn record(
    instance: &Instance,
    request: serde_json::Value,
    kind: sigstore_sign::types::bundle::KindVersion,
) -> Result<sigstore_sign::types::TransparencyLogEntry> {
    let services = instance.services()?;
    if services.rekor_api_version().major() != 1 {
        return Err(Error::Signing(
            "a key-signed DSSE envelope (spin sign --key) is recorded in a Rekor v1 log, and the signing config names only Rekor v2\n  help: use a signing config with a v1 Rekor, or sign with --tlog-upload=false".into(),
        ));
    }
    let url = format!(
        "{}/api/v1/log/entries",
        services.rekor_url().trim_end_matches('/')
    );
    let fail = |e: String| {
        Error::Signing(format!(
            "the transparency log (Rekor) did not record the signature: {e}\n  help: retry, or sign with --tlog-upload=false for air-gapped use"
        ))
    };
    let response = instance
        .http_client()?
        .post(&url)
        .json(&request)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| fail(e.to_string()))?;
    if !status.is_success() {
        return Err(fail(format!(
            "{status}: {}",
            body["message"].as_str().unwrap_or_default()
        )));
    }
    let entry = body
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.values().next().cloned())
        .ok_or_else(|| fail("the response is not one log entry".into()))?;
    let entry: sigstore_sign::rekor::LogEntry =
        serde_json::from_value(entry).map_err(|e| fail(format!("unreadable log entry: {e}")))?;
    entry
        .to_bundle_entry(kind)
        .map_err(|e| fail(format!("unusable log entry: {e}")))
}
