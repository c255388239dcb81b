//! OCI 1.1 referrers: attach an artifact (such as a Sigstore bundle) to a manifest, and
//! list what is attached. Registries with the referrers API index referrer manifests
//! themselves; for those without it (distribution 2.8, GHCR) the list lives in an image
//! index under the tag `sha256-<hex>` of the subject, updated read-modify-write and
//! confirmed as [`TagUpdate`](super::TagUpdate) describes, so concurrent attachers do not
//! drop each other's entries.

use super::body::read_capped;
use super::{Op, RegistryClient, RegistryError, scope};
use crate::media::{EMPTY_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, MAX_MANIFEST_BYTES};
use crate::package::{Blob, BlobData, Descriptor};
use crate::reference::Reference;
use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use spin_app::Digest;
use std::collections::BTreeMap;

/// The tag that lists a subject's referrers on registries without the referrers API.
pub fn tag_for(subject: &Digest) -> String {
    format!("sha256-{}", subject.hex())
}

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

/// What is attached to a manifest, and where the list came from.
#[derive(Debug, Clone)]
pub struct Referrers {
    /// From the registry's referrers API (else from the `sha256-<hex>` fallback tag).
    pub from_api: bool,
    /// The attached manifests.
    pub manifests: Vec<Descriptor>,
}

/// Most referrers listed for one subject (an index of 4 MiB holds about 20,000; nobody
/// signs an app that often, and each listed referrer costs a request to examine).
pub const MAX_REFERRERS: usize = 1000;

impl RegistryClient {
    /// The manifests attached to `subject` in `r`'s repository, from the referrers API or,
    /// where the registry has none, the `sha256-<hex>` tag index; optionally only those of
    /// `artifact_type`. Either index is read capped at 4 MiB while it arrives; at most
    /// [`MAX_REFERRERS`] entries are returned.
    pub async fn referrers(
        &self,
        r: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError> {
        let op = Op::new(
            format!(
                "list what is attached to {subject} in {}",
                r.repository_url()
            ),
            r.registry(),
            false,
        );
        let mut url = reqwest::Url::parse(&self.url(r, "referrers", &subject.to_string()))
            .map_err(|e| op.protocol(e.to_string()))?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let get = || self.http.get(url.clone()).header(ACCEPT, INDEX_MEDIA_TYPE);
        let from_api = self
            .retrying(&op, || async {
                let response = self.send(&op, &scope(r, false), &get).await?;
                match response.status() {
                    s if s.is_success() => read_capped(
                        response,
                        MAX_MANIFEST_BYTES as u64,
                        "a referrers index",
                        &op,
                        &self.options.timeouts,
                    )
                    .await
                    .map(Some),
                    // No referrers API: the fallback tag holds the list.
                    StatusCode::NOT_FOUND => Ok(None),
                    _ => Err(op.status(response).await),
                }
            })
            .await?;
        let in_api = from_api.is_some();
        let index = match from_api {
            Some(bytes) => Some(bytes),
            None => self.fetch_tag(r, &tag_for(subject)).await?,
        };
        let Some(bytes) = index else {
            return Ok(Referrers {
                from_api: in_api,
                manifests: Vec::new(),
            });
        };
        #[derive(serde::Deserialize)]
        struct Listed {
            #[serde(default)]
            manifests: Vec<Descriptor>,
        }
        let listed: Listed = serde_json::from_slice(&bytes)
            .map_err(|e| op.protocol(format!("sent a referrers index that is not valid ({e})")))?;
        Ok(Referrers {
            from_api: in_api,
            manifests: listed
                .manifests
                .into_iter()
                .filter(|d| artifact_type.is_none() || d.artifact_type.as_deref() == artifact_type)
                .take(MAX_REFERRERS)
                .collect(),
        })
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
        let manifest = crate::package::ImageManifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.into()),
            artifact_type: Some(artifact_type.into()),
            config,
            layers: vec![layer],
            subject: Some(subject.clone()),
            annotations: (!annotations.is_empty()).then(|| annotations.clone()),
        };
        let bytes = serde_json::to_vec(&manifest).expect("a manifest always serializes");
        let mut referrer = descriptor(MANIFEST_MEDIA_TYPE, &bytes);
        referrer.artifact_type = Some(artifact_type.into());
        referrer.annotations = (!annotations.is_empty()).then_some(annotations);
        self.push_manifest(r, &referrer.digest.to_string(), &bytes, MANIFEST_MEDIA_TYPE)
            .await?;

        // Registries with the referrers API list it now; otherwise add it to the tag index.
        let tag = tag_for(&subject.digest);
        let mut update = super::tags::TagUpdate::default();
        loop {
            let mut listed = self.referrers(r, &subject.digest, None).await?.manifests;
            let present = listed.iter().any(|d| d.digest == referrer.digest);
            if update
                .observe(present)
                .await
                .map_err(|e| RegistryError::Protocol {
                    what: format!(
                        "attach {} to {} in the referrers index {}:{tag}",
                        referrer.digest,
                        subject.digest,
                        r.repository_url()
                    ),
                    registry: r.registry().to_string(),
                    detail: e.to_string(),
                })?
            {
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
            let bytes = serde_json::to_vec(&index).expect("an index always serializes");
            self.push_manifest(r, &tag, &bytes, INDEX_MEDIA_TYPE)
                .await?;
        }
    }
}
