//! Signing with a key the user holds (cosign key files): a message signature over a
//! digest, or a DSSE envelope, recorded in Rekor or (air-gapped) timestamped by the
//! instance's TSA.

use crate::bundle::Input;
use crate::instance::Instance;
use crate::keys::SigningKey;
use crate::services::{rekor, tsa};
use crate::{Error, Result};
use sha2::Digest as _;
use sigstore_sign::types::{Bundle, Sha256Hash};

/// Sign `input` with a private key into a bundle whose verification material is the key's
/// hint (its SHA-256, base64). With `tlog`, the signature is recorded in the instance's
/// Rekor (v1 hashedrekord with the public key) and the bundle carries the entry. Without it
/// (air-gapped, with the site's own timestamp authority in the signing config) the bundle
/// carries an RFC 3161 timestamp instead, and verifiers must be told to accept bundles
/// without log entries; a Sigstore bundle always needs one of the two.
pub async fn sign_input(
    instance: &Instance,
    key: &SigningKey,
    input: &Input,
    tlog: bool,
) -> Result<Bundle> {
    bundle_with_key(instance, key, Sha256Hash::new(input.sha256()?), tlog).await
}

/// A message-signature bundle over `digest`, signed with the key (see [`sign_with_key`]).
pub async fn bundle_with_key(
    instance: &Instance,
    key: &SigningKey,
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
        bundle = bundle
            .with_tlog_entry(rekor::record_with_key(instance, key, &digest, &signature).await?);
    }
    // Rekor v2 entries carry no signed entry timestamp: the time comes from the TSA.
    if !tlog || rekor_v2 {
        bundle = bundle.with_rfc3161_timestamp(tsa::timestamp(instance, &signature).await?);
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
    key: &SigningKey,
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
            rekor::record(
                instance,
                request,
                sigstore_sign::types::bundle::KindVersion::DsseV001,
            )
            .await?,
        )
    } else {
        bundle.with_rfc3161_timestamp(tsa::timestamp(instance, &signature).await?)
    };
    Ok(bundle.into_bundle())
}

/// The public key hint of a bundle signed with `key`: its SHA-256, base64.
pub(crate) fn key_hint(key: &SigningKey) -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        sha2::Sha256::digest(&key.public_der),
    )
}
