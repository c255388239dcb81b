//! Push and pull: parallel, skipping what is already there, mounting from sibling
//! repositories, verifying everything received, resuming interrupted downloads.

use crate::client::{ProgressFn, RegistryClient, RegistryError};
pub use crate::error::PullError;
use crate::media::*;
use crate::package::{Artifact, Descriptor, ImageManifest};
use crate::reference::Reference;
use crate::store::{Store, StoreError};
use futures::{StreamExt, TryStreamExt};
use spin_app::Digest;
use std::io::Write;
use std::sync::Arc;

/// Blobs transferred at once.
const PARALLEL: usize = 8;

/// What happened to one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Sent to the registry.
    Uploaded,
    /// The registry already had it.
    Present,
    /// Mounted from another repository of the same registry.
    Mounted,
    /// Received and verified.
    Downloaded,
    /// Already in the local store.
    Cached,
}

/// Reports transfer progress (a progress bar per blob on a terminal, lines otherwise).
pub trait Progress: Send + Sync {
    /// A blob transfer starts.
    fn begin(&self, digest: &Digest, label: &str, size: u64);
    /// Bytes of that blob done so far.
    fn position(&self, digest: &Digest, bytes: u64);
    /// The blob is done.
    fn end(&self, digest: &Digest, outcome: Outcome);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &Digest, _: &str, _: u64) {}
    fn position(&self, _: &Digest, _: u64) {}
    fn end(&self, _: &Digest, _: Outcome) {}
}

/// Counts of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// The manifest digest.
    pub digest: Digest,
    /// Blobs sent.
    pub uploaded: usize,
    /// Blobs the registry already had.
    pub present: usize,
    /// Blobs mounted from another repository.
    pub mounted: usize,
}

fn label(d: &Descriptor) -> &'static str {
    match d.media_type.as_str() {
        WASM_LAYER_MEDIA_TYPE | WASM_COMPONENT_MEDIA_TYPE => "component",
        DATA_LAYER_MEDIA_TYPE => "file",
        ARCHIVE_LAYER_MEDIA_TYPE => "files archive",
        LOCKED_APP_MEDIA_TYPE => "locked app",
        IMAGE_CONFIG_MEDIA_TYPE | WASM_CONFIG_MEDIA_TYPE => "config",
        _ => "blob",
    }
}

impl PullError {
    /// What to do about it, when there is more to say than the message.
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Registry(e) => Some(e.help()),
            _ => None,
        }
    }
}

/// Which repositories of a registry are known to hold a blob (learned from earlier pushes
/// and pulls), for cross-repository mounts. One line per fact; a fact already recorded is
/// not appended again, and the file is rewritten without duplicates when it grows past
/// [`Locations::MAX_LINES`] (keeping the newest facts).
pub struct Locations {
    path: std::path::PathBuf,
    lock: std::sync::Mutex<()>,
}

impl Locations {
    /// Facts kept at most.
    pub const MAX_LINES: usize = 100_000;

    /// The index kept next to `store`.
    pub fn beside(store_root: &std::path::Path) -> Self {
        Self {
            path: store_root.join("locations"),
            lock: std::sync::Mutex::new(()),
        }
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    fn record(&self, registry: &str, repository: &str, digest: &Digest) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let line = format!("{registry} {repository} {digest}");
        let mut lines = self.lines();
        if lines.contains(&line) {
            return;
        }
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if lines.len() < Self::MAX_LINES {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
            {
                let _ = f.write_all(format!("{line}\n").as_bytes());
            }
            return;
        }
        // Compact: newest facts win, each once.
        lines.push(line);
        let mut seen = std::collections::HashSet::new();
        let mut kept: Vec<&String> = lines.iter().rev().filter(|l| seen.insert(*l)).collect();
        kept.truncate(Self::MAX_LINES / 2);
        kept.reverse();
        let text: String = kept.iter().map(|l| format!("{l}\n")).collect();
        let _ = spin_app::fsutil::write_atomic(&self.path, text.as_bytes());
    }

    fn repositories(&self, registry: &str, digest: &Digest) -> Vec<String> {
        let digest = digest.to_string();
        let mut repos: Vec<String> = Vec::new();
        for l in self.lines() {
            let mut parts = l.split(' ');
            if let (Some(r), Some(repo), Some(d)) = (parts.next(), parts.next(), parts.next())
                && r == registry
                && d == digest
                && !repos.iter().any(|x| x == repo)
            {
                repos.push(repo.to_string());
            }
        }
        repos
    }
}

/// Push `artifact` to `reference` (its tag, or `latest`).
pub async fn push(
    client: &RegistryClient,
    locations: &Locations,
    artifact: &Artifact,
    reference: &Reference,
    progress: Arc<dyn Progress>,
) -> Result<PushReport, RegistryError> {
    client.prepare_push(reference).await?;
    let outcomes: Vec<Outcome> = futures::stream::iter(artifact.blobs())
        .map(|blob| {
            let progress = progress.clone();
            async move {
                let d = &blob.descriptor;
                progress.begin(&d.digest, label(d), d.size);
                let outcome = if client.blob_exists(reference, &d.digest).await? {
                    Outcome::Present
                } else {
                    let mut mounted = false;
                    for repo in locations.repositories(reference.registry(), &d.digest) {
                        if repo != reference.repository()
                            && client.mount(reference, &repo, &d.digest).await
                        {
                            mounted = true;
                            break;
                        }
                    }
                    if mounted {
                        Outcome::Mounted
                    } else {
                        let (p, digest) = (progress.clone(), d.digest.clone());
                        let report: ProgressFn = Arc::new(move |n| p.position(&digest, n));
                        client.push_blob(reference, blob, report).await?;
                        Outcome::Uploaded
                    }
                };
                locations.record(reference.registry(), reference.repository(), &d.digest);
                progress.end(&d.digest, outcome);
                Ok::<_, RegistryError>(outcome)
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect()
        .await?;
    let target = match (reference.tag(), reference.digest()) {
        (Some(tag), _) => tag.to_string(),
        (None, Some(_)) => artifact.digest.to_string(),
        (None, None) => "latest".to_string(),
    };
    client
        .push_manifest(reference, &target, &artifact.manifest, MANIFEST_MEDIA_TYPE)
        .await?;
    let count = |o: Outcome| outcomes.iter().filter(|x| **x == o).count();
    Ok(PushReport {
        digest: artifact.digest.clone(),
        uploaded: count(Outcome::Uploaded),
        present: count(Outcome::Present),
        mounted: count(Outcome::Mounted),
    })
}

/// A pulled artifact: everything it references is in the store, verified.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference, pinned to the digest.
    pub reference: Reference,
    /// The manifest digest.
    pub digest: Digest,
    /// The manifest.
    pub manifest: ImageManifest,
}

fn known_media_type(mt: &str) -> bool {
    [
        IMAGE_CONFIG_MEDIA_TYPE,
        WASM_CONFIG_MEDIA_TYPE,
        WASM_LAYER_MEDIA_TYPE,
        WASM_COMPONENT_MEDIA_TYPE,
        DATA_LAYER_MEDIA_TYPE,
        ARCHIVE_LAYER_MEDIA_TYPE,
        LOCKED_APP_MEDIA_TYPE,
        EMPTY_MEDIA_TYPE,
    ]
    .contains(&mt)
}

/// Parse a manifest and check that it is something this tool can run.
pub fn parse_manifest(bytes: &[u8], what: &str) -> Result<ImageManifest, PullError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| PullError::Unsupported(format!("{what}: the manifest is not JSON ({e})")))?;
    if value.get("manifests").is_some() {
        return Err(PullError::Unsupported(format!(
            "{what} is an image index (a multi-platform image), not a Spin app or Wasm component artifact"
        )));
    }
    let manifest: ImageManifest = serde_json::from_value(value)
        .map_err(|e| PullError::Unsupported(format!("{what}: not an OCI image manifest ({e})")))?;
    let mut unknown: Vec<&str> = std::iter::once(&manifest.config)
        .chain(&manifest.layers)
        .map(|d| d.media_type.as_str())
        .filter(|mt| !known_media_type(mt))
        .collect();
    unknown.dedup();
    if !unknown.is_empty() {
        let (noun, verb) = if unknown.len() > 1 {
            ("media types", "are")
        } else {
            ("media type", "is")
        };
        return Err(PullError::Unsupported(format!(
            "{what}: {noun} `{}` {verb} not known; this tool runs Spin apps and CNCF Wasm component artifacts (is this a container image?)",
            unknown.join("`, `")
        )));
    }
    Ok(manifest)
}

/// A pulled artifact as one to push or export: its blobs are the store's files.
pub fn stored_artifact(store: &Store, pulled: &Pulled) -> Result<Artifact, PullError> {
    let blob = |d: &Descriptor| crate::package::Blob {
        descriptor: d.clone(),
        data: crate::package::BlobData::File(store.blob_path(&d.digest)),
    };
    let manifest = store
        .read(&pulled.digest, MAX_MANIFEST_BYTES as u64)
        .map_err(|source| PullError::Store {
            context: format!("reading manifest {}", pulled.digest),
            source,
        })?;
    Ok(Artifact {
        manifest,
        digest: pulled.digest.clone(),
        config: blob(&pulled.manifest.config),
        layers: pulled.manifest.layers.iter().map(blob).collect(),
    })
}

/// Refuse an artifact whose blobs declare more than the store accepts in total, before
/// any of them is downloaded.
pub fn check_total(manifest: &ImageManifest, store: &Store, what: &str) -> Result<(), PullError> {
    let total = std::iter::once(&manifest.config)
        .chain(&manifest.layers)
        .fold(0u64, |sum, d| sum.saturating_add(d.size));
    let limit = store.limits().max_artifact_bytes;
    if total > limit {
        return Err(PullError::Store {
            context: what.to_string(),
            source: StoreError::TooLarge {
                what: format!("the artifact ({total} bytes in its blobs)"),
                limit,
                help: "if this app really is that large, raise the limit with --max-artifact-size"
                    .into(),
            },
        });
    }
    Ok(())
}

/// Pull `reference` into `store`: one tag resolution, then everything by digest.
pub async fn pull(
    client: &RegistryClient,
    store: &Store,
    locations: &Locations,
    reference: &Reference,
    progress: Arc<dyn Progress>,
) -> Result<Pulled, PullError> {
    client.prepare_pull(reference).await?;
    let digest = client.resolve(reference).await?;
    let pinned = reference.with_digest(digest.clone());
    let bytes = if store.has(&digest) {
        store
            .read(&digest, MAX_MANIFEST_BYTES as u64)
            .map_err(|source| PullError::Store {
                context: format!("reading {digest}"),
                source,
            })?
    } else {
        let bytes = client.fetch_manifest(&pinned, &digest).await?;
        store
            .put(&digest, &bytes)
            .map_err(|source| PullError::Store {
                context: format!("storing manifest {digest}"),
                source,
            })?;
        bytes
    };
    let manifest = parse_manifest(&bytes, &pinned.to_string())?;
    check_total(&manifest, store, &pinned.to_string())?;
    let registry = reference.registry().to_string();
    // Small blobs first: the locked app and any files archive arrive early, so the archive
    // is unpacked while the large layers are still downloading.
    let mut blobs: Vec<&Descriptor> = std::iter::once(&manifest.config)
        .chain(&manifest.layers)
        .collect();
    blobs.sort_by_key(|d| d.size);
    futures::stream::iter(blobs)
        .map(|d| {
            let (progress, pinned, registry) = (progress.clone(), pinned.clone(), registry.clone());
            async move {
                progress.begin(&d.digest, label(d), d.size);
                if store.has(&d.digest) {
                    progress.end(&d.digest, Outcome::Cached);
                    return Ok(());
                }
                let context = || format!("blob {} from {registry}", d.digest);
                let mut writer = store.writer(&d.digest).map_err(|source| PullError::Store {
                    context: context(),
                    source,
                })?;
                let (p, digest) = (progress.clone(), d.digest.clone());
                let report: ProgressFn = Arc::new(move |n| p.position(&digest, n));
                client.pull_blob(&pinned, d, &mut writer, report).await?;
                // Verify, fsync and rename off the async workers.
                tokio::task::spawn_blocking(move || writer.commit())
                    .await
                    .map_err(|e| PullError::Unsupported(format!("{}: {e}", context())))?
                    .map_err(|source| PullError::Store {
                        context: format!("{} failed verification", context()),
                        source,
                    })?;
                locations.record(&registry, pinned.repository(), &d.digest);
                progress.end(&d.digest, Outcome::Downloaded);
                if d.media_type == ARCHIVE_LAYER_MEDIA_TYPE {
                    let (store, digest) = (store.clone(), d.digest.clone());
                    tokio::task::spawn_blocking(move || crate::archive::unpack(&store, &digest))
                        .await
                        .map_err(|e| PullError::Unsupported(format!("{}: {e}", context())))??;
                }
                Ok::<_, PullError>(())
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(Pulled {
        reference: pinned,
        digest,
        manifest,
    })
}
