//! OCI 1.1 referrers: attach an artifact (such as a Sigstore bundle) to a manifest, and
//! list what is attached. Registries with the referrers API index referrer manifests
//! themselves; for those without it (distribution 2.8, GHCR) the list lives in an image
//! index under the tag `sha256-<hex>` of the subject, updated read-modify-write and
//! confirmed as [`TagUpdate`](super::TagUpdate) describes, so concurrent attachers do not
//! drop each other's entries.

use super::*;
use std::collections::BTreeMap;

/// The OCI empty descriptor's content (`{}`), used as the config of artifact manifests.
const EMPTY_JSON: &[u8] = b"{}";

#[derive(serde::Serialize)]
struct Index<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    manifests: &'a [Descriptor],
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: Digest::of_bytes(bytes),
        size: bytes.len() as u64,
        annotations: None,
        artifact_type: None,
    }
}

impl RegistryClient {
    /// The manifests attached to `subject` in `r`'s repository, from the referrers API or
    /// the `sha256-<hex>` tag index, optionally only those of `artifact_type`.
    pub async fn referrers(
        &self,
        r: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        self.authed(&self.chunked, r, RegistryOperation::Pull)
            .await?;
        let what = format!(
            "list what is attached to {subject} in {}",
            r.repository_url()
        );
        let index = self
            .retry(&what, || async {
                self.chunked
                    .pull_referrers(&oci_ref(r, &subject.to_string()), artifact_type)
                    .await
                    .map_err(|e| explain(r.registry(), &what, e))
            })
            .await?;
        index
            .manifests
            .into_iter()
            .map(|m| {
                Ok(Descriptor {
                    media_type: m.media_type,
                    digest: m.digest.parse().map_err(|e| {
                        RegistryError::new(format!("{what}: bad digest {}: {e}", m.digest), false)
                    })?,
                    size: u64::try_from(m.size).unwrap_or(0),
                    annotations: m.annotations.map(|a| a.into_iter().collect()),
                    artifact_type: m.artifact_type,
                })
            })
            .collect()
    }

    /// A small blob (an attached artifact) in memory, refused above `max_bytes` and checked
    /// against its digest.
    pub async fn fetch_small_blob(
        &self,
        r: &Reference,
        descriptor: &Descriptor,
        max_bytes: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let what = format!("download {} from {}", descriptor.digest, r.repository_url());
        if descriptor.size > max_bytes {
            return Err(RegistryError::new(
                format!(
                    "{what}: it is {} bytes, over the {max_bytes}-byte limit for attached artifacts; refusing it",
                    descriptor.size
                ),
                false,
            ));
        }
        self.authed(&self.chunked, r, RegistryOperation::Pull)
            .await?;
        let layer = oci_client::manifest::OciDescriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.to_string(),
            size: descriptor.size as i64,
            ..Default::default()
        };
        let bytes = self
            .retry(&what, || async {
                let mut out = Vec::new();
                self.chunked
                    .pull_blob(&oci_ref(r, &r.target()), &layer, &mut out)
                    .await
                    .map_err(|e| explain(r.registry(), &what, e))?;
                Ok(out)
            })
            .await?;
        if bytes.len() as u64 != descriptor.size || Digest::of_bytes(&bytes) != descriptor.digest {
            return Err(RegistryError::new(
                format!(
                    "{what}: the registry sent content that does not match the digest; refusing it"
                ),
                false,
            ));
        }
        Ok(bytes)
    }

    /// Attach `content` (of media type `artifact_type`) to the manifest `subject`: push it
    /// with an empty config in a manifest whose `subject` is `subject`, then make sure it
    /// is listed as a referrer. Returns the new manifest's descriptor.
    pub async fn attach(
        &self,
        r: &Reference,
        subject: &Descriptor,
        artifact_type: &str,
        content: Vec<u8>,
        annotations: BTreeMap<String, String>,
    ) -> Result<Descriptor, RegistryError> {
        self.prepare_push(r).await?;
        let config = descriptor(EMPTY_MEDIA_TYPE, EMPTY_JSON);
        let layer = descriptor(artifact_type, &content);
        for (d, data) in [(&config, EMPTY_JSON.to_vec()), (&layer, content)] {
            if !self.blob_exists(r, &d.digest).await? {
                let blob = Blob {
                    descriptor: d.clone(),
                    data: BlobData::Bytes(data),
                };
                self.push_blob(r, &blob, std::sync::Arc::new(|_| {}))
                    .await?;
            }
        }
        let subject = Descriptor {
            annotations: None,
            artifact_type: None,
            ..subject.clone()
        };
        let manifest = super::super::package::ImageManifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            artifact_type: Some(artifact_type.into()),
            config,
            layers: vec![layer],
            subject: Some(subject.clone()),
            annotations: (!annotations.is_empty()).then(|| annotations.clone()),
        };
        let bytes = serde_json::to_vec(&manifest)
            .map_err(|e| RegistryError::new(format!("cannot encode the manifest: {e}"), false))?;
        let mut referrer = descriptor(MANIFEST_MEDIA_TYPE, &bytes);
        referrer.artifact_type = Some(artifact_type.into());
        referrer.annotations = (!annotations.is_empty()).then_some(annotations);
        self.push_manifest(r, &referrer.digest.to_string(), &bytes, MANIFEST_MEDIA_TYPE)
            .await?;

        // Registries with the referrers API list it now; otherwise add it to the tag index.
        let tag = subject.digest.to_string().replace(':', "-");
        let mut update = super::tags::TagUpdate::default();
        loop {
            let mut listed = self.referrers(r, &subject.digest, None).await?;
            let present = listed.iter().any(|d| d.digest == referrer.digest);
            if update.observe(present).await.map_err(|e| {
                RegistryError::new(
                    format!(
                        "attached {} to {}, but the referrers index {}:{tag}: {e}",
                        referrer.digest,
                        subject.digest,
                        r.repository_url()
                    ),
                    true,
                )
            })? {
                return Ok(referrer);
            }
            if present {
                continue;
            }
            listed.push(referrer.clone());
            let index = Index {
                schema_version: 2,
                media_type: INDEX_MEDIA_TYPE,
                manifests: &listed,
            };
            let bytes = serde_json::to_vec(&index).map_err(|e| {
                RegistryError::new(format!("cannot encode the referrers index: {e}"), false)
            })?;
            self.push_manifest(r, &tag, &bytes, INDEX_MEDIA_TYPE)
                .await?;
        }
    }
}
