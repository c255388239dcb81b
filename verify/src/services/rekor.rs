//! The transparency log (Rekor) clients for key-made signatures: v1 entries (hashedrekord,
//! dsse) posted as JSON, v2 hashedrekord entries through sigstore-sign.

use crate::instance::Instance;
use crate::keys::SigningKey;
use crate::{Error, Result};
use sigstore_sign::types::Sha256Hash;

/// Record a key-made signature as a hashedrekord entry (Rekor v1 or v2).
pub async fn record_with_key(
    instance: &Instance,
    key: &SigningKey,
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
pub async fn record(
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
