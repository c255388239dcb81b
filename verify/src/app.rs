//! Signatures on apps in registries, cosign v3 style: the app's manifest digest is the
//! subject of an in-toto statement (predicate `https://sigstore.dev/cosign/sign/v1`),
//! signed in a DSSE envelope into a Sigstore bundle v0.3, which is attached to the app's
//! manifest as an OCI referrer (`artifactType` = the bundle media type). Registries
//! without the referrers API get the `sha256-<hex>` tag index instead (see
//! `spin_registry::client`). Signing again adds a referrer; it never replaces one.
//! Verifying is the policy's business (`crate::gate`, `crate::policy`).

use crate::instance::Instance;
use crate::sign::signing_error;
use crate::{Error, Result};
use sigstore_sign::Attestation;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::types::Sha256Hash;
use spin_registry::Reference;
use spin_registry::client::RegistryClient;
use spin_registry::package::Descriptor;
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

/// The app manifest `reference` points at, as a referrer subject, and its digest.
async fn subject(
    client: &RegistryClient,
    reference: &Reference,
) -> Result<(Descriptor, Sha256Hash)> {
    let digest = client.resolve(reference).await?;
    let manifest = client.fetch_manifest(reference, &digest).await?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|m| m["mediaType"].as_str().map(String::from))
        .unwrap_or_else(|| spin_registry::media::MANIFEST_MEDIA_TYPE.to_string());
    let hash = Sha256Hash::from_hex(digest.hex())
        .map_err(|e| Error::Input(format!("{digest} is not a SHA-256 digest: {e}")))?;
    let subject = Descriptor {
        media_type,
        digest,
        size: manifest.len() as u64,
        annotations: None,
        artifact_type: None,
    };
    Ok((subject, hash))
}

/// The in-toto statement an app signature signs.
fn statement(reference: &Reference, digest: &Sha256Hash) -> serde_json::Value {
    serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": reference.repository_url(), "digest": {"sha256": digest.to_hex()}}],
        "predicateType": SIGN_PREDICATE_TYPE,
        "predicate": {},
    })
}

async fn attach(
    client: &RegistryClient,
    reference: &Reference,
    subject: Descriptor,
    bundle: &sigstore_sign::types::Bundle,
) -> Result<Signed> {
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
        .await?;
    Ok(Signed { subject, referrer })
}

/// Sign the app `reference` points at (its manifest digest) keylessly and attach the
/// bundle; with `legacy`, also add a cosign legacy `.sig` signature.
pub async fn sign_and_attach(
    instance: &Instance,
    token: IdentityToken,
    client: &RegistryClient,
    reference: &Reference,
    legacy: bool,
) -> Result<Signed> {
    let (subject, hash) = subject(client, reference).await?;
    let statement = Attestation::new(SIGN_PREDICATE_TYPE, serde_json::json!({}))
        .add_subject(reference.repository_url(), hash);
    let signer = instance.signing_context()?.signer(token);
    let bundle = signer
        .sign_attestation(statement)
        .await
        .map_err(signing_error)?;
    let signed = attach(client, reference, subject, &bundle).await?;
    if legacy {
        let payload = crate::legacy::payload(reference, &signed.subject.digest);
        let bundle = signer.sign(&payload[..]).await.map_err(signing_error)?;
        let annotations = crate::legacy::annotations(&bundle, &instance.ca_chain_pem())?;
        crate::legacy::append(
            client,
            reference,
            &signed.subject.digest,
            payload,
            annotations,
        )
        .await?;
    }
    Ok(signed)
}

/// Sign the app `reference` points at with a private key and attach the bundle; the
/// envelope is recorded in Rekor (`dsse` entry), or with `tlog` off timestamped by the TSA.
pub async fn sign_and_attach_with_key(
    instance: &Instance,
    key: &crate::keys::SigningKey,
    client: &RegistryClient,
    reference: &Reference,
    tlog: bool,
) -> Result<Signed> {
    let (subject, hash) = subject(client, reference).await?;
    let payload = serde_json::to_vec(&statement(reference, &hash))
        .map_err(|e| Error::Signing(format!("cannot encode the statement: {e}")))?;
    let bundle = crate::sign::key::sign_dsse_with_key(
        instance,
        key,
        "application/vnd.in-toto+json",
        &payload,
        tlog,
    )
    .await?;
    attach(client, reference, subject, &bundle).await
}
