//! Files mounted into components. Each run gets a fresh directory under the state dir
//! (`files-<random>/`), held by a lock while it serves; each component's files are placed
//! in a numbered subdirectory that the guest sees read-only as `/`.
//!
//! Placing a file never writes through an existing path: a file is created new
//! (`O_EXCL`), or hard-linked from the content (a store blob, or the app's own file), and
//! the link call refuses an existing name. So no mount, however crafted, can modify a store
//! blob or a source file, and guests get read-only access only. Directories left by a run
//! that was killed (`kill -9`) are removed by the next run that uses the same state dir.

use spin_app::guest_path;
use spin_app::locked::{ContentRef, LockedComponent};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why files could not be placed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilesError {
    /// Filesystem trouble.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The locked app's content reference cannot be placed.
    #[error("component `{component}` file {path}: {problem}")]
    Content {
        /// Component id.
        component: String,
        /// Guest path.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> FilesError {
    let what = what.into();
    move |source| FilesError::Io { what, source }
}

const PREFIX: &str = "files-";
const LOCK: &str = ".lock";

/// The directory holding this run's mounted files.
pub struct FilesRoot {
    dir: tempfile::TempDir,
    _lock: File,
}

impl FilesRoot {
    /// A fresh directory under `state_dir`, after removing those of runs that are gone.
    pub fn create(state_dir: &Path) -> Result<Self, FilesError> {
        std::fs::create_dir_all(state_dir)
            .map_err(io(format!("creating {}", state_dir.display())))?;
        sweep(state_dir);
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(state_dir)
            .map_err(io(format!(
                "creating a directory in {}",
                state_dir.display()
            )))?;
        let lock_path = dir.path().join(LOCK);
        let lock =
            File::create(&lock_path).map_err(io(format!("creating {}", lock_path.display())))?;
        lock.lock()
            .map_err(io(format!("locking {}", lock_path.display())))?;
        Ok(Self { dir, _lock: lock })
    }

    /// Place `component`'s files in subdirectory `index` and return it.
    pub fn materialize(
        &self,
        index: usize,
        component: &LockedComponent,
    ) -> Result<PathBuf, FilesError> {
        let root = self.dir.path().join(index.to_string());
        std::fs::create_dir(&root).map_err(io(format!("creating {}", root.display())))?;
        for file in &component.files {
            let bad = |problem: String| FilesError::Content {
                component: component.id.clone(),
                path: file.path.clone(),
                problem,
            };
            let normal = guest_path::normalize(&file.path).map_err(|e| bad(e.to_string()))?;
            let dest = root.join(&normal[1..]);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(io(format!("creating {}", parent.display())))?;
            }
            place(&file.content, &dest).map_err(|e| bad(e.to_string()))?;
        }
        Ok(root)
    }
}

/// Put `content` at `dest`, which must not exist yet.
fn place(content: &ContentRef, dest: &Path) -> std::io::Result<()> {
    if let Some(bytes) = &content.inline {
        let mut f = OpenOptions::new().write(true).create_new(true).open(dest)?;
        return f.write_all(bytes);
    }
    let src = source_path(content)?;
    match std::fs::hard_link(&src, dest) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        // Another filesystem, or links not allowed: copy into a new file instead.
        Err(_) => {
            let mut from = File::open(&src)?;
            let mut to = OpenOptions::new().write(true).create_new(true).open(dest)?;
            std::io::copy(&mut from, &mut to).map(drop)
        }
    }
}

/// The local file a content reference points at.
pub fn source_path(content: &ContentRef) -> std::io::Result<PathBuf> {
    let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
    let source = content
        .source
        .as_deref()
        .ok_or_else(|| invalid("it has no `source`".into()))?;
    let url =
        url::Url::parse(source).map_err(|e| invalid(format!("bad source URL {source}: {e}")))?;
    if url.scheme() != "file" {
        return Err(invalid(format!(
            "source {source} must be a local file:// URL (pull registry apps first)"
        )));
    }
    url.to_file_path()
        .map_err(|()| invalid(format!("bad file URL {source}")))
}

/// Remove `files-*` directories whose run is gone: their lock can be taken. Directories
/// without a lock file (older versions) go once they are a day old.
fn sweep(state_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        let stale = match File::open(dir.join(LOCK)) {
            Ok(f) => f.try_lock().is_ok(),
            Err(_) => spin_app::fsutil::older_than(&dir, Duration::from_secs(24 * 3600)),
        };
        if stale {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => tracing::debug!("removed {} left by a run that ended", dir.display()),
                Err(e) => tracing::warn!("could not remove stale {}: {e}", dir.display()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_app::locked::{ContentPath, LockedComponentSource};

    fn component(files: Vec<ContentPath>) -> LockedComponent {
        LockedComponent {
            id: "c".into(),
            metadata: Default::default(),
            source: LockedComponentSource {
                content_type: "application/wasm".into(),
                content: ContentRef::default(),
            },
            dependencies: Default::default(),
            env: Default::default(),
            files,
            config: Default::default(),
            host_requirements: Default::default(),
        }
    }

    fn inline(path: &str, bytes: &[u8]) -> ContentPath {
        ContentPath {
            content: ContentRef {
                inline: Some(bytes.to_vec()),
                ..Default::default()
            },
            path: path.into(),
        }
    }

    fn linked(path: &str, src: &Path) -> ContentPath {
        ContentPath {
            content: ContentRef {
                source: Some(url::Url::from_file_path(src).unwrap().to_string()),
                ..Default::default()
            },
            path: path.into(),
        }
    }

    #[test]
    fn a_second_file_at_the_same_path_never_writes_through_the_first() {
        let state = tempfile::tempdir().unwrap();
        let blob = state.path().join("blob");
        std::fs::write(&blob, b"the store's bytes").unwrap();
        let root = FilesRoot::create(&state.path().join("state")).unwrap();
        // The attack from the issue: a linked blob, then inline bytes at the same path.
        let c = component(vec![linked("/x", &blob), inline("/./x", b"attacker")]);
        let err = root.materialize(0, &c).unwrap_err().to_string();
        assert!(err.contains("exists"), "{err}");
        assert_eq!(std::fs::read(&blob).unwrap(), b"the store's bytes");
        // And linked twice (the copy fallback must not write into the first link).
        let other = state.path().join("other");
        std::fs::write(&other, b"other").unwrap();
        let c = component(vec![linked("/y", &blob), linked("/y", &other)]);
        assert!(root.materialize(1, &c).is_err());
        assert_eq!(std::fs::read(&blob).unwrap(), b"the store's bytes");
    }

    #[test]
    fn escapes_are_refused_before_anything_is_written() {
        let state = tempfile::tempdir().unwrap();
        let root = FilesRoot::create(state.path()).unwrap();
        let c = component(vec![inline("/../../escaped", b"x")]);
        let err = root.materialize(0, &c).unwrap_err().to_string();
        assert!(err.contains("`..`"), "{err}");
        assert!(!state.path().join("escaped").exists());
    }

    #[test]
    fn directories_of_dead_runs_are_swept() {
        let state = tempfile::tempdir().unwrap();
        let live = FilesRoot::create(state.path()).unwrap();
        let dead = state.path().join("files-dead");
        std::fs::create_dir(&dead).unwrap();
        File::create(dead.join(LOCK)).unwrap();
        let _next = FilesRoot::create(state.path()).unwrap();
        assert!(!dead.exists(), "an unlocked directory is removed");
        assert!(live.dir.path().exists(), "a locked one stays");
    }
}
