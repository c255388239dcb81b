//! A pulled artifact → a locked app whose content points into the verified store.

use super::store::Store;
use super::transfer::{PullError, Pulled};
use super::*;
use crate::digest::Digest;
use crate::lock::file_url;
use crate::locked::{ContentRef, LockedApp, OCI_IMAGE_DIGEST_KEY};
use std::io::Read;

fn unsupported(msg: String) -> PullError {
    PullError::Unsupported(msg)
}

/// Point a content reference at the store (inline content stays inline).
fn resolve(content: &mut ContentRef, store: &Store, what: &str) -> Result<(), PullError> {
    if content.inline.is_some() {
        content.source = None;
        return Ok(());
    }
    let digest: Digest = content
        .digest
        .as_deref()
        .ok_or_else(|| unsupported(format!("{what} has neither inline content nor a digest")))?
        .parse()
        .map_err(|e| unsupported(format!("{what}: {e}")))?;
    if !store.has(&digest) {
        return Err(unsupported(format!(
            "{what} refers to {digest}, which the artifact does not contain"
        )));
    }
    content.source = Some(file_url(&store.blob_path(&digest)));
    Ok(())
}

/// Unpack an archive layer's files into the store (each checked by its own digest).
/// Idempotent: files already in the store are skipped. A pull unpacks as soon as the
/// archive is verified; building the locked app unpacks again only when a file is missing
/// (an archive pulled by a run that was interrupted before it finished unpacking).
pub(crate) fn unpack_archive(store: &Store, digest: &Digest) -> Result<(), PullError> {
    let file = std::fs::File::open(store.blob_path(digest))
        .map_err(|e| unsupported(format!("archive {digest}: {e}")))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = archive
        .entries()
        .map_err(|e| unsupported(format!("archive {digest} is not a gzipped tar: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| unsupported(format!("archive {digest}: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| unsupported(format!("archive {digest}: {e}")))?;
        files.push((Digest::of_bytes(&bytes), bytes));
    }
    store.put_all(&files).map_err(|source| PullError::Store {
        context: format!("unpacking {digest}"),
        source,
    })?;
    Ok(())
}

/// Build the locked app for a pulled Spin app or CNCF Wasm component artifact.
pub fn locked_app(store: &Store, pulled: &Pulled) -> Result<LockedApp, PullError> {
    let what = pulled.reference.to_string();
    let m = &pulled.manifest;
    let mut app = if m.config.media_type == WASM_CONFIG_MEDIA_TYPE {
        let layer = m
            .layers
            .iter()
            .find(|l| l.media_type == WASM_COMPONENT_MEDIA_TYPE)
            .ok_or_else(|| {
                unsupported(format!(
                    "{what}: a Wasm artifact without an `application/wasm` layer"
                ))
            })?;
        let id = pulled
            .reference
            .repository()
            .rsplit('/')
            .next()
            .unwrap_or("component")
            .to_string();
        crate::lock::lock_component_at(&store.blob_path(&layer.digest), &id, &layer.digest)
    } else {
        let layer = m
            .layers
            .iter()
            .rev()
            .find(|l| l.media_type == LOCKED_APP_MEDIA_TYPE)
            .ok_or_else(|| {
                unsupported(format!(
                    "{what}: no locked app layer ({LOCKED_APP_MEDIA_TYPE}); is this a Spin app?"
                ))
            })?;
        let bytes = store
            .read(&layer.digest)
            .map_err(|source| PullError::Store {
                context: format!("reading {}", layer.digest),
                source,
            })?;
        let mut app =
            LockedApp::from_json(&bytes).map_err(|e| unsupported(format!("{what}: {e}")))?;
        // The pull unpacked its archives; unpack again only if a file is missing (a pull
        // cut short after an archive arrived). Malformed digests are reported by `resolve`.
        let missing = |c: &ContentRef| {
            c.inline.is_none()
                && c.digest
                    .as_deref()
                    .and_then(|d| d.parse::<Digest>().ok())
                    .is_some_and(|d| !store.has(&d))
        };
        if app
            .components
            .iter()
            .flat_map(|c| &c.files)
            .any(|f| missing(&f.content))
        {
            for archive in m
                .layers
                .iter()
                .filter(|l| l.media_type == ARCHIVE_LAYER_MEDIA_TYPE)
            {
                unpack_archive(store, &archive.digest)?;
            }
        }
        for c in &mut app.components {
            resolve(
                &mut c.source.content,
                store,
                &format!("component `{}`", c.id),
            )?;
            for f in &mut c.files {
                resolve(
                    &mut f.content,
                    store,
                    &format!("component `{}` file {}", c.id, f.path),
                )?;
            }
        }
        app
    };
    app.metadata.insert(
        OCI_IMAGE_DIGEST_KEY.into(),
        pulled.digest.to_string().into(),
    );
    app.metadata.insert(
        "origin".into(),
        format!("oci://{}", pulled.reference).into(),
    );
    Ok(app)
}
