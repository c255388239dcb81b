//! A component's `files`, expanded to one content reference per file at its normalised
//! guest path; two different files at one path are an error, found here (and by
//! `spin doctor`, without reading any file).

use super::{LockError, absolute, file_url};
use crate::digest::Digest;
use crate::locked::{ContentPath, ContentRef};
use crate::manifest::{AppManifest, FileMount};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Expand `files` into one content reference per file, keyed by normalised guest path.
pub(super) fn expand_files(
    id: &str,
    mounts: &[FileMount],
    exclude: &[String],
    root: &Path,
) -> Result<Vec<ContentPath>, LockError> {
    let mut out = Vec::new();
    for (guest, canonical) in place_files(id, mounts, exclude, root)? {
        let digest = Digest::of_file(&canonical).map_err(|source| LockError::Io {
            path: canonical.clone(),
            source,
        })?;
        out.push(ContentPath {
            content: ContentRef {
                source: Some(file_url(&canonical)),
                inline: None,
                digest: Some(digest.to_string()),
            },
            path: guest,
        });
    }
    Ok(out)
}

/// Problems with the component files a manifest mounts (missing files, files outside the
/// app, two files at one guest path), without reading any file: for `spin doctor`.
pub fn check_files(manifest: &AppManifest, manifest_path: &Path) -> Vec<LockError> {
    let manifest_path = absolute(manifest_path);
    let root = manifest_path.parent().unwrap_or(Path::new("/"));
    manifest
        .components
        .iter()
        .filter_map(|(id, c)| place_files(id, &c.files, &c.exclude_files, root).err())
        .collect()
}

/// Where each mounted file goes: normalised guest path → canonical host path. Two
/// different files at one guest path, or a file where another needs a directory, are an
/// error: one would silently replace the other.
fn place_files(
    id: &str,
    mounts: &[FileMount],
    exclude: &[String],
    root: &Path,
) -> Result<BTreeMap<String, PathBuf>, LockError> {
    let exclude: Vec<glob::Pattern> = exclude
        .iter()
        .filter_map(|p| glob::Pattern::new(p).ok())
        .collect();
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut by_guest_path: BTreeMap<String, PathBuf> = BTreeMap::new();
    for mount in mounts {
        let (host, guest_base, pattern) = match mount {
            FileMount::Pattern(p) => (root.join(p), format!("/{p}"), p.clone()),
            FileMount::Placement {
                source,
                destination,
            } => (root.join(source), destination.clone(), source.clone()),
        };
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        if host.is_dir() {
            let files = crate::fsutil::files_under(&host).map_err(|source| LockError::Io {
                path: host.clone(),
                source,
            })?;
            for f in files {
                let rel = crate::fsutil::slash_path(&f, &host);
                found.push((format!("{}/{rel}", guest_base.trim_end_matches('/')), f));
            }
        } else if host.is_file() {
            found.push((guest_base.clone(), host.clone()));
        } else if let (FileMount::Pattern(_), Ok(paths)) =
            (mount, glob::glob(&host.to_string_lossy()))
        {
            for f in paths.flatten().filter(|f| f.is_file()) {
                found.push((format!("/{}", crate::fsutil::slash_path(&f, root)), f));
            }
        }
        if found.is_empty() {
            return Err(LockError::MissingFiles {
                component: id.into(),
                pattern,
            });
        }
        for (guest, host) in found {
            let canonical = host.canonicalize().map_err(|source| LockError::Io {
                path: host.clone(),
                source,
            })?;
            if !canonical.starts_with(&canonical_root) {
                return Err(LockError::OutsideApp {
                    component: id.into(),
                    path: host,
                });
            }
            let rel = canonical
                .strip_prefix(&canonical_root)
                .unwrap_or(&canonical);
            if exclude.iter().any(|p| p.matches_path(rel)) {
                continue;
            }
            let guest =
                crate::guest_path::normalize(&guest).map_err(|e| LockError::BadDestination {
                    component: id.into(),
                    reason: e.to_string(),
                })?;
            match by_guest_path.get(&guest) {
                Some(first) if first != &canonical => {
                    return Err(LockError::FileConflict {
                        component: id.into(),
                        guest,
                        first: first.clone(),
                        second: canonical,
                    });
                }
                _ => {
                    by_guest_path.insert(guest, canonical);
                }
            }
        }
    }
    // A file at `/a` and another at `/a/b` cannot both exist: look up every proper
    // ancestor directory of each path.
    for guest in by_guest_path.keys() {
        let ancestors = guest.match_indices('/').map(|(i, _)| &guest[..i]);
        if let Some(file) = ancestors
            .filter(|a| !a.is_empty())
            .find(|a| by_guest_path.contains_key(*a))
        {
            return Err(LockError::FileConflict {
                component: id.into(),
                guest: file.to_string(),
                first: by_guest_path[file].clone(),
                second: by_guest_path[guest].clone(),
            });
        }
    }
    Ok(by_guest_path)
}
