//! Manifests: resolving a tag to a digest, fetching by digest (checked) or by tag (capped),
//! and storing one.

use super::body::read_capped;
use super::{Op, RegistryClient, RegistryError, scope};
use crate::media::{
    DOCKER_MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, MAX_MANIFEST_BYTES,
};
use crate::reference::Reference;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use spin_app::Digest;

/// The kinds of manifest this tool reads, as an `Accept` header.
fn accepted() -> String {
    [
        MANIFEST_MEDIA_TYPE,
        INDEX_MEDIA_TYPE,
        DOCKER_MANIFEST_MEDIA_TYPE,
    ]
    .join(", ")
}

impl RegistryClient {
    /// The digest a tag points at now (one HEAD, or a GET when the registry does not say),
    /// or the reference's own digest.
    pub async fn resolve(&self, r: &Reference) -> Result<Digest, RegistryError> {
        if let Some(d) = r.digest() {
            return Ok(d.clone());
        }
        let op = Op::new(format!("resolve {r}"), r.registry(), false);
        let url = self.url(r, "manifests", &r.target());
        let head = || self.http.head(&url).header(ACCEPT, accepted());
        let header = self
            .retrying(&op, || async {
                let response = self.send_ok(&op, &scope(r, false), &head).await?;
                Ok(response
                    .headers()
                    .get("docker-content-digest")
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()))
            })
            .await?;
        match header {
            Some(d) => d.trim().parse().map_err(|_| {
                op.protocol(format!(
                    "gave `{}` as the digest, which is not a sha256 digest",
                    super::op::clean(&d, 100)
                ))
            }),
            None => {
                let bytes = self.get_manifest(&op, r, &r.target()).await?;
                Ok(Digest::of_bytes(&bytes))
            }
        }
    }

    async fn get_manifest(
        &self,
        op: &Op,
        r: &Reference,
        target: &str,
    ) -> Result<Vec<u8>, RegistryError> {
        let url = self.url(r, "manifests", target);
        let get = || self.http.get(&url).header(ACCEPT, accepted());
        self.retrying(op, || async {
            let response = self.send_ok(op, &scope(r, false), &get).await?;
            read_capped(
                response,
                MAX_MANIFEST_BYTES as u64,
                "a manifest",
                op,
                &self.options.timeouts,
            )
            .await
        })
        .await
    }

    /// A manifest by digest, checked against the digest and the 4 MiB limit while it
    /// arrives.
    pub async fn fetch_manifest(
        &self,
        r: &Reference,
        digest: &Digest,
    ) -> Result<Vec<u8>, RegistryError> {
        let op = Op::new(
            format!("fetch manifest {digest} from {}", r.repository_url()),
            r.registry(),
            false,
        );
        let bytes = self.get_manifest(&op, r, &digest.to_string()).await?;
        let actual = Digest::of_bytes(&bytes);
        if &actual != digest {
            return Err(op.protocol(format!("sent a manifest with digest {actual}; refusing it")));
        }
        Ok(bytes)
    }

    /// The manifest under `tag` in `r`'s repository (capped at 4 MiB), or `None` when the
    /// tag does not exist.
    pub async fn fetch_tag(
        &self,
        r: &Reference,
        tag: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let op = Op::new(
            format!("fetch {}:{tag}", r.repository_url()),
            r.registry(),
            false,
        );
        match self.get_manifest(&op, r, tag).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(RegistryError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Store a manifest under `target` (a tag, or its digest).
    pub async fn push_manifest(
        &self,
        r: &Reference,
        target: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<(), RegistryError> {
        let op = Op::new(
            format!("push manifest to {}:{target}", r.repository_url()),
            r.registry(),
            true,
        );
        let url = self.url(r, "manifests", target);
        let body = bytes::Bytes::copy_from_slice(bytes);
        let put = || {
            self.http
                .put(&url)
                .header(CONTENT_TYPE, media_type)
                .body(body.clone())
        };
        self.retrying(&op, || async {
            self.send_ok(&op, &scope(r, true), &put).await?;
            Ok(())
        })
        .await
    }
}
