//! The timestamp authority (RFC 3161) client.

use crate::instance::Instance;
use crate::{Error, Result};

/// An RFC 3161 timestamp over `signature` from the instance's TSA.
pub async fn timestamp(
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
