//! A pulled artifact → a locked app whose content points into the verified store.

use crate::error::PullError;
use crate::media::*;
use crate::store::{Store, StoreError};
use crate::transfer::Pulled;
use spin_app::Digest;
use spin_app::lock::file_url;
use spin_app::locked::{ContentRef, LockedApp, OCI_IMAGE_DIGEST_KEY};

fn unsupported(msg: String) -> PullError {
    PullError::Unsupported(msg)
}

/// Largest locked app read (Spin's are a few KiB; one with 100,000 files is a few MiB).
pub const MAX_LOCKED_APP_BYTES: u64 = 64 << 20;

/// Point a content reference at its blob in the store, after hashing the blob again
/// (inline content stays inline).
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
    let path = store
        .verified_path(&digest)
        .map_err(|source| match source {
            StoreError::Missing(_) => unsupported(format!(
                "{what} refers to {digest}, which the artifact does not contain"
            )),
            source => PullError::Store {
                context: what.to_string(),
                source,
            },
        })?;
    content.source = Some(file_url(&path));
    Ok(())
}

/// Build the locked app for a pulled Spin app or CNCF Wasm component artifact.
pub fn locked_app(store: &Store, pulled: &Pulled) -> Result<LockedApp, PullError> {
    let what = pulled.reference.to_string();
    let m = &pulled.manifest;
    // The locked app: the last locked-app layer (Spin ≥ 1.6), or the config blob itself
    // (Spin ≤ 1.5 pushed the locked app as the image config).
    let locked_blob = m
        .layers
        .iter()
        .rev()
        .find(|l| l.media_type == LOCKED_APP_MEDIA_TYPE)
        .or((m.config.media_type == LOCKED_APP_MEDIA_TYPE).then_some(&m.config));
    let wasm_layers: Vec<_> = m
        .layers
        .iter()
        .filter(|l| {
            [WASM_COMPONENT_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE].contains(&l.media_type.as_str())
        })
        .collect();
    let bare = match (locked_blob, wasm_layers.as_slice()) {
        // A CNCF Wasm artifact, or (as Spin runs them) any artifact whose only Wasm layer
        // is not described by a locked app.
        (None, [layer]) => Some(layer),
        _ if m.config.media_type == WASM_CONFIG_MEDIA_TYPE => Some(
            wasm_layers
                .iter()
                .find(|l| l.media_type == WASM_COMPONENT_MEDIA_TYPE)
                .ok_or_else(|| {
                    unsupported(format!(
                        "{what}: a Wasm artifact without an `application/wasm` layer"
                    ))
                })?,
        ),
        _ => None,
    };
    let mut app = if let Some(layer) = bare {
        let id = pulled
            .reference
            .repository()
            .rsplit('/')
            .next()
            .unwrap_or("component")
            .to_string();
        let path = store
            .verified_path(&layer.digest)
            .map_err(|source| PullError::Store {
                context: format!("{what}: component"),
                source,
            })?;
        spin_app::lock::lock_component_at(&path, &id, &layer.digest)
    } else {
        let layer = locked_blob.ok_or_else(|| {
            unsupported(format!(
                "{what}: no locked app ({LOCKED_APP_MEDIA_TYPE}) and {} Wasm layers; is this a Spin app?",
                wasm_layers.len()
            ))
        })?;
        let bytes = store
            .read(&layer.digest, MAX_LOCKED_APP_BYTES)
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
                crate::archive::unpack(store, &archive.digest)?;
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
