//! Small manifests under well-known tags (cosign's `sha256-<hex>.sig`), read-modify-written.

use super::*;

fn not_found(e: &OciDistributionError) -> bool {
    use OciDistributionError as E;
    match e {
        E::ImageManifestNotFoundError(_) => true,
        E::ServerError { code: 404, .. } => true,
        E::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown
            )
        }),
        _ => false,
    }
}

impl RegistryClient {
    /// The manifest under `tag` in `r`'s repository, or `None` when the tag does not exist.
    pub async fn fetch_tag(
        &self,
        r: &Reference,
        tag: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let auth = self
            .authed(&self.chunked, r, RegistryOperation::Pull)
            .await?;
        let what = format!("fetch {}:{tag}", r.repository_url());
        let accepted = [
            MANIFEST_MEDIA_TYPE,
            INDEX_MEDIA_TYPE,
            DOCKER_MANIFEST_MEDIA_TYPE,
        ];
        self.retry(&what, || async {
            match self
                .chunked
                .pull_manifest_raw(&oci_ref(r, tag), &auth, &accepted)
                .await
            {
                Ok((bytes, _)) if bytes.len() > MAX_MANIFEST_BYTES => Err(RegistryError::new(
                    format!("{what}: over the 4 MiB manifest limit; refusing it"),
                    false,
                )),
                Ok((bytes, _)) => Ok(Some(bytes.to_vec())),
                Err(e) if not_found(&e) => Ok(None),
                Err(e) => Err(explain(r.registry(), &what, e)),
            }
        })
        .await
    }
}
