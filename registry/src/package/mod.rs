//! Locked app → OCI artifact, in the layout Spin 3.x pushes and pulls: one layer per
//! component (`…layer.v1+wasm`), one per static file (`…layer.v1+data`) except files of at
//! most 128 bytes, which are inlined into the locked app; above 499 layers, one gzipped tar
//! per component's files instead; layers deduplicated by digest; the locked app last.
//!
//! Unlike Spin, packaging is reproducible: every JSON document is canonical, archives are
//! deterministic, and `created` comes from `SOURCE_DATE_EPOCH` or the newest source file.

mod component;
mod created;

pub use component::package_component;

use crate::canonical::to_canonical_json;
use crate::media::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spin_app::Digest;
use spin_app::locked::{ContentPath, ContentRef, LockedApp};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Content at most this long is inlined into the locked app instead of pushed as a layer.
pub const INLINE_MAX: u64 = 128;
/// Most layers a registry is relied on to accept (ECR's limit).
pub const MAX_LAYERS: usize = 500;

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// Media type of the referenced content.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Optional annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Optional artifact type (referrers).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

/// An OCI image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageManifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// `application/vnd.oci.image.manifest.v1+json` (absent in some Docker manifests).
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type (referrer manifests).
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    pub layers: Vec<Descriptor>,
    /// What this manifest refers to (referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Where a blob's bytes come from when pushing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobData {
    /// A file on disk.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Vec<u8>),
}

/// A blob with its descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// What the manifest says about it.
    pub descriptor: Descriptor,
    /// Its bytes.
    pub data: BlobData,
}

/// A packaged artifact, ready to push or write to a layout.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Canonical manifest JSON.
    pub manifest: Vec<u8>,
    /// Its digest: what a push reports and a signature covers.
    pub digest: Digest,
    /// The config blob.
    pub config: Blob,
    /// The layer blobs.
    pub layers: Vec<Blob>,
}

impl Artifact {
    /// Config first, then layers: every blob the manifest references.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        std::iter::once(&self.config).chain(&self.layers)
    }
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Content without a local source.
    #[error("{0}")]
    Source(String),
    /// The manifest is wrong (at file:line:col).
    #[error(transparent)]
    Manifest(#[from] spin_app::located::LocatedError),
    /// The app could not be locked (a missing source, a file conflict, a download).
    #[error(transparent)]
    Lock(#[from] spin_app::lock::LockError),
}

/// Options for packaging.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// Extra manifest annotations (`--annotation k=v`); they win over inferred ones.
    pub annotations: BTreeMap<String, String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn local_path(content: &ContentRef, what: &str) -> Result<PathBuf, PackageError> {
    let source = content.source.as_deref().ok_or_else(|| {
        PackageError::Source(format!(
            "{what} has neither a local source nor inline content"
        ))
    })?;
    url::Url::parse(source)
        .ok()
        .filter(|u| u.scheme() == "file")
        .and_then(|u| u.to_file_path().ok())
        .ok_or_else(|| PackageError::Source(format!("{what}: {source} is not a local file")))
}

/// A file to include: where it is, its digest and size.
struct FileFact {
    path: PathBuf,
    digest: Digest,
    size: u64,
}

/// Size and digest of a file; a digest the locked app already recorded is reused (the
/// registry checks every upload against its digest, so a stale one cannot slip through).
fn fact(path: &Path, known: Option<&str>) -> Result<FileFact, PackageError> {
    let size = std::fs::metadata(path).map_err(io(path))?.len();
    let digest = match known.and_then(|d| d.parse::<Digest>().ok()) {
        Some(d) => d,
        None => Digest::of_file(path).map_err(io(path))?,
    };
    Ok(FileFact {
        path: path.to_path_buf(),
        digest,
        size,
    })
}

fn content_ref(f: &FileFact) -> Result<ContentRef, PackageError> {
    let inline = if f.size <= INLINE_MAX {
        Some(std::fs::read(&f.path).map_err(io(&f.path))?)
    } else {
        None
    };
    Ok(ContentRef {
        source: None,
        inline,
        digest: Some(f.digest.to_string()),
    })
}

fn layer(f: &FileFact, media_type: &str) -> Blob {
    Blob {
        descriptor: Descriptor {
            media_type: media_type.into(),
            digest: f.digest.clone(),
            size: f.size,
            annotations: None,
            artifact_type: None,
        },
        data: BlobData::File(f.path.clone()),
    }
}

fn bytes_blob(bytes: Vec<u8>, media_type: &str) -> Blob {
    Blob {
        descriptor: Descriptor {
            media_type: media_type.into(),
            digest: Digest::of_bytes(&bytes),
            size: bytes.len() as u64,
            annotations: None,
            artifact_type: None,
        },
        data: BlobData::Bytes(bytes),
    }
}

/// Every file of a locked file entry (a single file, or a directory walked recursively),
/// with its guest path relative to `/`.
fn expand(file: &ContentPath, what: &str) -> Result<Vec<(String, FileFact)>, PackageError> {
    let base = file.path.trim_start_matches('/').to_string();
    let path = local_path(&file.content, what)?;
    if !path.is_dir() {
        return Ok(vec![(base, fact(&path, file.content.digest.as_deref())?)]);
    }
    let mut out = Vec::new();
    for p in spin_app::fsutil::files_under(&path).map_err(io(&path))? {
        let rel = spin_app::fsutil::slash_path(&p, &path);
        let guest = if base.is_empty() {
            rel
        } else {
            format!("{base}/{rel}")
        };
        out.push((guest, fact(&p, None)?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A deterministic gzipped tar of `files` (path → file): sorted, zero times and owners.
fn archive(files: &[(String, PathBuf)]) -> Result<Vec<u8>, PackageError> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut sorted: Vec<&(String, PathBuf)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (guest, path) in sorted {
        let data = std::fs::read(path).map_err(io(path))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, guest, data.as_slice())
            .map_err(io(path))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| io(Path::new("<archive>"))(e))?;
    gz.finish().map_err(|e| io(Path::new("<archive>"))(e))
}

fn annotations(
    locked: &LockedApp,
    options: &PackageOptions,
    created: Option<String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            out.insert(key.to_string(), v);
        }
    };
    put(
        "org.opencontainers.image.title",
        locked.metadata_str("name").map(String::from),
    );
    put(
        "org.opencontainers.image.version",
        locked.metadata_str("version").map(String::from),
    );
    put(
        "org.opencontainers.image.description",
        locked.metadata_str("description").map(String::from),
    );
    let authors = locked
        .metadata
        .get("authors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        });
    put("org.opencontainers.image.authors", authors);
    put("org.opencontainers.image.created", created);
    out.extend(options.annotations.clone());
    out
}

/// Serialize and digest a manifest for `config` and `layers`.
pub fn build_manifest(
    config: Blob,
    layers: Vec<Blob>,
    annotations: BTreeMap<String, String>,
) -> Artifact {
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.into()),
        artifact_type: None,
        config: config.descriptor.clone(),
        layers: layers.iter().map(|l| l.descriptor.clone()).collect(),
        subject: None,
        annotations: (!annotations.is_empty()).then_some(annotations),
    };
    let bytes = to_canonical_json(&manifest);
    Artifact {
        digest: Digest::of_bytes(&bytes),
        manifest: bytes,
        config,
        layers,
    }
}

/// Package the app of the `spin.toml` at `path`: lock it (sources digested, URL sources
/// downloaded and checked), then [`package_app`].
pub async fn package_manifest(
    path: &Path,
    lock: &spin_app::lock::LockOptions,
    options: &PackageOptions,
) -> Result<Artifact, PackageError> {
    let manifest = spin_app::manifest::load(path)?;
    let locked = spin_app::lock::lock(&manifest, path, lock).await?;
    package_app(&locked, options)
}

/// The local files a locked app was made from (its manifest, components and files).
fn local_sources(locked: &LockedApp) -> Vec<PathBuf> {
    let origin = locked.metadata_str("origin");
    let contents = locked.components.iter().flat_map(|c| {
        std::iter::once(c.source.content.source.as_deref())
            .chain(c.files.iter().map(|f| f.content.source.as_deref()))
    });
    std::iter::once(origin)
        .chain(contents)
        .flatten()
        .filter_map(|s| url::Url::parse(s).ok()?.to_file_path().ok())
        .collect()
}

/// Package a locked app whose content is on local disk. Its `created` annotation is
/// `SOURCE_DATE_EPOCH`, else the newest modification time of its sources, so the same app
/// pushed twice has the same digest.
pub fn package_app(locked: &LockedApp, options: &PackageOptions) -> Result<Artifact, PackageError> {
    let created = created::created(&local_sources(locked));
    let mut app = locked.clone();
    app.metadata.remove("origin");
    let mut wasm_layers = Vec::new();
    // Per component: its non-inlined files (guest path → fact).
    let mut component_files: Vec<Vec<(String, FileFact)>> = Vec::new();
    for c in &mut app.components {
        let what = format!("component `{}`", c.id);
        let wasm = fact(
            &local_path(&c.source.content, &what)?,
            c.source.content.digest.as_deref(),
        )?;
        c.source.content = content_ref(&wasm)?;
        wasm_layers.push(layer(&wasm, WASM_LAYER_MEDIA_TYPE));
        let mut files = Vec::new();
        let mut pushed = Vec::new();
        for f in &c.files {
            if f.content.inline.is_some() && f.content.source.is_none() {
                files.push(ContentPath {
                    content: f.content.clone(),
                    path: f.path.trim_start_matches('/').into(),
                });
                continue;
            }
            for (guest, fact) in expand(f, &format!("{what} file {}", f.path))? {
                files.push(ContentPath {
                    content: content_ref(&fact)?,
                    path: guest.clone(),
                });
                if fact.size > INLINE_MAX {
                    pushed.push((guest, fact));
                }
            }
        }
        c.files = files;
        component_files.push(pushed);
    }

    let mut layers: Vec<Blob> = wasm_layers;
    // As Spin: archives once the distinct layers (after deduplication) would not leave
    // room for the locked app under the limit.
    let distinct: HashSet<String> = layers
        .iter()
        .map(|l| l.descriptor.digest.to_string())
        .chain(
            component_files
                .iter()
                .flatten()
                .map(|(_, f)| f.digest.to_string()),
        )
        .collect();
    if distinct.len() > MAX_LAYERS - 1 {
        for files in &component_files {
            if files.is_empty() {
                continue;
            }
            let entries: Vec<(String, PathBuf)> = files
                .iter()
                .map(|(g, f)| (g.clone(), f.path.clone()))
                .collect();
            layers.push(bytes_blob(archive(&entries)?, ARCHIVE_LAYER_MEDIA_TYPE));
        }
    } else {
        for files in &component_files {
            layers.extend(files.iter().map(|(_, f)| layer(f, DATA_LAYER_MEDIA_TYPE)));
        }
    }
    let mut seen = HashSet::new();
    layers.retain(|l| seen.insert(l.descriptor.digest.clone()));

    let locked_layer = bytes_blob(to_canonical_json(&app), LOCKED_APP_MEDIA_TYPE);
    let config = json!({
        "architecture": "wasm",
        "os": "wasip1",
        "config": { "Labels": { LOCKED_APP_DIGEST_LABEL: locked_layer.descriptor.digest.to_string() } },
        "rootfs": { "type": "layers", "diff_ids": [] },
    });
    layers.push(locked_layer);
    let config = bytes_blob(to_canonical_json(&config), IMAGE_CONFIG_MEDIA_TYPE);
    Ok(build_manifest(
        config,
        layers,
        annotations(&app, options, created),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, vec![1u8; 300]).unwrap();
        std::fs::write(&b, vec![2u8; 300]).unwrap();
        let one = archive(&[("x/a".into(), a.clone()), ("b".into(), b.clone())]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let two = archive(&[("b".into(), b), ("x/a".into(), a)]).unwrap();
        assert_eq!(one, two);
    }
}
