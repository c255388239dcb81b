//! Finding the signatures attached to an app digest in its registry: Sigstore bundles in
//! referrer manifests (OCI 1.1 referrers API, or the `sha256-<hex>` fallback tag), and
//! cosign's legacy `sha256-<hex>.sig` layers. Unreadable signatures are kept, with the
//! reason, so the trace shows them; failing to list is an error (fail closed).

use crate::Result;
use crate::app::BUNDLE_MEDIA_TYPE;
use crate::legacy::SIMPLESIGNING_MEDIA_TYPE;
use crate::policy::{Evidence, Found, Source};
use spin_app::Digest;
use spin_registry::Reference;
use spin_registry::client::{RegistryClient, tag_for};
use spin_registry::package::{Descriptor, ImageManifest};

/// Largest attached bundle or payload read (real ones are a few KiB).
const MAX_SIGNATURE_BYTES: u64 = 1 << 20;

/// Most signatures examined per place they are found (referrers, legacy `.sig` layers):
/// each costs requests, and no real app carries this many.
const MAX_SIGNATURES: usize = 64;

/// Every signature attached to `digest` in `reference`'s repository.
pub async fn signatures(
    client: &RegistryClient,
    reference: &Reference,
    digest: &Digest,
) -> Result<Vec<Found>> {
    let pinned = reference.with_digest(digest.clone());
    let referrers = client
        .referrers(&pinned, digest, Some(BUNDLE_MEDIA_TYPE))
        .await?;
    let source = if referrers.from_api {
        Source::ReferrersApi
    } else {
        Source::ReferrersTag
    };
    let mut found = Vec::new();
    for r in referrers.manifests.iter().take(MAX_SIGNATURES) {
        found.push(Found {
            source,
            location: r.digest.to_string(),
            content: referrer_bundle(client, reference, digest, r).await,
        });
    }
    legacy(client, reference, digest, &mut found).await?;
    Ok(found)
}

async fn referrer_bundle(
    client: &RegistryClient,
    reference: &Reference,
    digest: &Digest,
    r: &Descriptor,
) -> std::result::Result<Evidence, String> {
    let manifest = client
        .fetch_manifest(reference, &r.digest)
        .await
        .map_err(|e| e.to_string())?;
    let manifest: ImageManifest =
        serde_json::from_slice(&manifest).map_err(|e| format!("not an OCI manifest: {e}"))?;
    if manifest.subject.as_ref().map(|s| &s.digest) != Some(digest) {
        return Err("its subject is another manifest".into());
    }
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == BUNDLE_MEDIA_TYPE)
        .ok_or("the referrer has no bundle layer")?;
    let json = client
        .fetch_small_blob(reference, layer, MAX_SIGNATURE_BYTES)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8(json).map_err(|_| "the bundle is not UTF-8".to_string())?;
    crate::bundle::parse_bundle(&text)
        .map(|b| Evidence::Bundle(Box::new(b)))
        .map_err(|e| format!("not a valid Sigstore bundle: {e}"))
}

async fn legacy(
    client: &RegistryClient,
    reference: &Reference,
    digest: &Digest,
    found: &mut Vec<Found>,
) -> Result<()> {
    let tag = format!("{}.sig", tag_for(digest));
    let Some(bytes) = client.fetch_tag(reference, &tag).await? else {
        return Ok(());
    };
    let manifest: ImageManifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            found.push(Found {
                source: Source::LegacySig,
                location: tag,
                content: Err(format!("not an image manifest: {e}")),
            });
            return Ok(());
        }
    };
    for (i, layer) in manifest.layers.iter().enumerate().take(MAX_SIGNATURES) {
        if layer.media_type != SIMPLESIGNING_MEDIA_TYPE {
            continue;
        }
        let content = match client
            .fetch_small_blob(reference, layer, MAX_SIGNATURE_BYTES)
            .await
        {
            Ok(payload) => {
                let annotations = layer.annotations.clone().unwrap_or_default();
                crate::legacy::bundle_from_layer(&annotations, &payload).map(|bundle| {
                    Evidence::Legacy {
                        bundle: Box::new(bundle),
                        payload,
                    }
                })
            }
            Err(e) => Err(e.to_string()),
        };
        found.push(Found {
            source: Source::LegacySig,
            location: format!("{tag} layer {}", i + 1),
            content,
        });
    }
    Ok(())
}
