//! Component sources given as `{ url, digest }`: downloaded once into a cache keyed by
//! digest, checked while streaming.

use super::{LockError, LockOptions};
use crate::digest::Digest;
use std::path::PathBuf;

/// Download `url` into the cache unless a file with `digest` is already there; the digest
/// is checked while streaming and the file appears only once complete (temp + rename).
pub(super) async fn download(
    id: &str,
    url: &str,
    digest: &Digest,
    options: &LockOptions,
) -> Result<PathBuf, LockError> {
    use futures::StreamExt;
    use std::io::Write;
    let err = |message: String| LockError::Download {
        component: id.into(),
        message,
    };
    let dest = options.download_cache.join(digest.hex());
    if dest.is_file() && Digest::of_file(&dest).ok().as_ref() == Some(digest) {
        return Ok(dest);
    }
    std::fs::create_dir_all(&options.download_cache).map_err(|e| {
        err(format!(
            "cannot create cache {}: {e}",
            options.download_cache.display()
        ))
    })?;
    let response = reqwest::get(url)
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| {
            err(format!(
                "downloading {url} failed: {e}\n  help: check the URL and your network"
            ))
        })?;
    let mut tmp = tempfile::NamedTempFile::new_in(&options.download_cache)
        .map_err(|e| err(format!("cannot write to the cache: {e}")))?;
    let mut hasher = Digest::hasher();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| err(format!("downloading {url} failed: {e}")))?;
        sha2::Digest::update(&mut hasher, &chunk);
        tmp.write_all(&chunk)
            .map_err(|e| err(format!("cannot write to the cache: {e}")))?;
    }
    let actual = Digest::from_hasher(hasher);
    if &actual != digest {
        return Err(err(format!(
            "{url} has digest {actual}, but spin.toml expects {digest}\n  help: if the new content is trusted, update `digest` in spin.toml"
        )));
    }
    tmp.persist(&dest)
        .map_err(|e| err(format!("cannot write to the cache: {e}")))?;
    Ok(dest)
}
