//! OCI image layout directories (`oci-layout`, `index.json`, `blobs/sha256/…`): write an
//! artifact into one, and read one back (every blob checked on the way into the store).

use crate::canonical::to_canonical_json;
use crate::error::PullError;
use crate::media::*;
use crate::package::{Artifact, Blob, BlobData, Descriptor, ImageManifest};
use crate::reference::Reference;
use crate::store::Store;
use crate::transfer::{Pulled, parse_manifest};
use serde_json::{Value, json};
use spin_app::Digest;
use spin_app::fsutil::write_atomic;
use std::path::{Path, PathBuf};

const REF_NAME: &str = "org.opencontainers.image.ref.name";

fn err(msg: String) -> PullError {
    PullError::Unsupported(msg)
}

/// A layout's `index.json` or manifest, refused above the 4 MiB manifest limit.
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_MANIFEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(std::io::Error::other(
            "larger than the 4 MiB manifest limit",
        ));
    }
    Ok(bytes)
}

/// Is `dir` an OCI image layout?
pub fn is_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file() && dir.join("index.json").is_file()
}

fn blob_path(dir: &Path, digest: &Digest) -> PathBuf {
    dir.join("blobs/sha256").join(digest.hex())
}

/// Write `artifact` into the layout at `dir` (created if needed), tagged `tag`.
pub fn write(dir: &Path, artifact: &Artifact, tag: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("blobs/sha256"))?;
    write_atomic(
        &dir.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    for blob in artifact.blobs() {
        let dest = blob_path(dir, &blob.descriptor.digest);
        if dest.is_file() {
            continue;
        }
        match &blob.data {
            BlobData::Bytes(b) => write_atomic(&dest, b)?,
            BlobData::File(p) => {
                let tmp = tempfile::NamedTempFile::new_in(dest.parent().unwrap_or(dir))?;
                std::fs::copy(p, tmp.path())?;
                tmp.persist(&dest).map_err(|e| e.error)?;
            }
        }
    }
    write_atomic(&blob_path(dir, &artifact.digest), &artifact.manifest)?;
    let index_path = dir.join("index.json");
    let mut manifests: Vec<Value> = std::fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("manifests").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    manifests.retain(|m| {
        m.pointer(&format!("/annotations/{}", REF_NAME.replace('/', "~1")))
            .and_then(Value::as_str)
            != Some(tag)
    });
    manifests.push(json!({
        "mediaType": MANIFEST_MEDIA_TYPE,
        "digest": artifact.digest.to_string(),
        "size": artifact.manifest.len(),
        "annotations": { REF_NAME: tag },
    }));
    let index =
        json!({ "schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests });
    write_atomic(&index_path, &to_canonical_json(&index))
}

/// The manifest in a layout: the one tagged `tag`, or the only one.
fn select(dir: &Path, tag: Option<&str>) -> Result<(Digest, Option<String>), PullError> {
    let where_ = dir.display();
    let index: Value = read_capped(&dir.join("index.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            err(format!(
                "{where_} has no readable index.json; is it an OCI layout?"
            ))
        })?;
    let manifests = index
        .get("manifests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let name = |m: &Value| {
        m.get("annotations")
            .and_then(|a| a.get(REF_NAME))
            .and_then(Value::as_str)
            .map(String::from)
    };
    let chosen = match tag {
        Some(t) => manifests
            .iter()
            .find(|m| name(m).as_deref() == Some(t))
            .ok_or_else(|| {
                err(format!(
                    "{where_} has no manifest tagged `{t}`; it has: {}",
                    manifests
                        .iter()
                        .filter_map(name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        None if manifests.len() == 1 => &manifests[0],
        None => {
            return Err(err(format!(
                "{where_} holds {} manifests; name one with {where_}:TAG (tags: {})",
                manifests.len(),
                manifests
                    .iter()
                    .filter_map(name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let digest = chosen
        .get("digest")
        .and_then(Value::as_str)
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| {
            err(format!(
                "{where_}: index.json has a manifest without a valid digest"
            ))
        })?;
    Ok((digest, name(chosen)))
}

/// Read a layout's manifest (checked against its digest) as an artifact whose blobs are
/// the layout's files, ready to push.
pub fn read_artifact(dir: &Path, tag: Option<&str>) -> Result<Artifact, PullError> {
    let (digest, _) = select(dir, tag)?;
    let bytes = read_capped(&blob_path(dir, &digest))
        .map_err(|e| err(format!("{}: manifest {digest}: {e}", dir.display())))?;
    if Digest::of_bytes(&bytes) != digest {
        return Err(err(format!(
            "{}: manifest {digest} does not match its digest",
            dir.display()
        )));
    }
    let manifest: ImageManifest = parse_manifest(&bytes, &dir.display().to_string())?;
    let blob = |d: &Descriptor| Blob {
        descriptor: d.clone(),
        data: BlobData::File(blob_path(dir, &d.digest)),
    };
    Ok(Artifact {
        config: blob(&manifest.config),
        layers: manifest.layers.iter().map(blob).collect(),
        manifest: bytes,
        digest,
    })
}

/// Copy a layout's artifact into the store, verifying every blob, as if pulled.
pub fn import(dir: &Path, tag: Option<&str>, store: &Store) -> Result<Pulled, PullError> {
    let artifact = read_artifact(dir, tag)?;
    let what = dir.display().to_string();
    crate::transfer::check_total(&parse_manifest(&artifact.manifest, &what)?, store, &what)?;
    for blob in artifact.blobs() {
        let BlobData::File(path) = &blob.data else {
            continue;
        };
        store
            .import_file(&blob.descriptor.digest, blob.descriptor.size, path)
            .map_err(|source| PullError::Store {
                context: format!("{}: blob {}", dir.display(), blob.descriptor.digest),
                source,
            })?;
    }
    store
        .put(&artifact.digest, &artifact.manifest)
        .map_err(|source| PullError::Store {
            context: format!("{}: manifest", dir.display()),
            source,
        })?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("app")
        .to_ascii_lowercase();
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let reference: Reference = format!(
        "oci-layout.local/{}@{}",
        name.trim_matches('-'),
        artifact.digest
    )
    .parse()
    .map_err(|e| err(format!("{e}")))?;
    Ok(Pulled {
        reference,
        digest: artifact.digest.clone(),
        manifest: parse_manifest(&artifact.manifest, &dir.display().to_string())?,
    })
}

/// Write an artifact that is already in the store into a layout.
pub fn export(store: &Store, pulled: &Pulled, dir: &Path, tag: &str) -> Result<(), PullError> {
    let artifact = crate::transfer::stored_artifact(store, pulled)?;
    write(dir, &artifact, tag)
        .map_err(|e| err(format!("writing the layout {}: {e}", dir.display())))
}
