//! Signatures on apps in registries, cosign v3 style: the app's manifest digest is the
//! subject of an in-toto statement (predicate `https://sigstore.dev/cosign/sign/v1`),
//! signed in a DSSE envelope into a Sigstore bundle v0.3, which is attached to the app's
//! manifest as an OCI referrer (`artifactType` = the bundle media type). Registries
//! without the referrers API get the `sha256-<hex>` tag index instead (see
//! `spin_registry::oci::client`). Signing again adds a referrer; it never replaces one.

use crate::blob::signing_error;
use crate::instance::Instance;
use crate::{Error, Result};
use sigstore_sign::Attestation;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::types::Sha256Hash;
use spin_registry::Reference;
use spin_registry::oci::client::RegistryClient;
use spin_registry::oci::package::Descriptor;
use std::collections::BTreeMap;

/// The in-toto predicate type cosign v3 signs for images.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";
/// Media type of a Sigstore bundle v0.3 (the referrer's `artifactType`).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// What signing an app did.
pub struct Signed {
    /// The manifest that was signed.
    pub subject: Descriptor,
    /// The referrer manifest holding the bundle.
    pub referrer: Descriptor,
}

fn registry_error(e: spin_registry::oci::client::RegistryError) -> Error {
    Error::Signing(e.to_string())
}

/// Sign the app `reference` points at (its manifest digest) and attach the bundle.
pub async fn sign_and_attach(
    instance: &Instance,
    token: IdentityToken,
    client: &RegistryClient,
    reference: &Reference,
) -> Result<Signed> {
    let digest = client.resolve(reference).await.map_err(registry_error)?;
    let manifest = client
        .fetch_manifest(reference, &digest)
        .await
        .map_err(registry_error)?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|m| m["mediaType"].as_str().map(String::from))
        .unwrap_or_else(|| spin_registry::oci::MANIFEST_MEDIA_TYPE.to_string());
    let subject = Descriptor {
        media_type,
        digest: digest.clone(),
        size: manifest.len() as u64,
        annotations: None,
        artifact_type: None,
    };
    let hash = Sha256Hash::from_hex(digest.hex())
        .map_err(|e| Error::Input(format!("{digest} is not a SHA-256 digest: {e}")))?;
    let statement = Attestation::new(SIGN_PREDICATE_TYPE, serde_json::json!({}))
        .add_subject(reference.repository_url(), hash);
    let bundle = instance
        .signing_context()?
        .signer(token)
        .sign_attestation(statement)
        .await
        .map_err(signing_error)?;
    let json = bundle
        .to_json()
        .map_err(|e| Error::Signing(format!("cannot serialize the bundle: {e}")))?;
    let annotations = BTreeMap::from([
        (
            "dev.sigstore.bundle.content".to_string(),
            "dsse-envelope".to_string(),
        ),
        (
            "dev.sigstore.bundle.predicateType".to_string(),
            SIGN_PREDICATE_TYPE.to_string(),
        ),
    ]);
    let referrer = client
        .attach(
            reference,
            &subject,
            BUNDLE_MEDIA_TYPE,
            json.into_bytes(),
            annotations,
        )
        .await
        .map_err(registry_error)?;
    Ok(Signed { subject, referrer })
}
