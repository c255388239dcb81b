//! Writing files so that nothing half-written is ever seen: content goes to a temporary
//! file in the same directory, is synced, and is renamed over the name. The rename
//! replaces the directory entry, never the old file's content, so a reader (or a hard link
//! to the old file) keeps the complete old version.

use std::io::Write;
use std::path::Path;

/// How a new file is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Unix permission bits for the new file, set when it is created (default 0600, as
    /// `tempfile` creates files).
    pub mode: Option<u32>,
    /// Refuse to replace an existing file (for secrets that must not be overwritten).
    pub no_clobber: bool,
}

/// Write `contents` to `path` atomically, creating missing parent directories.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, contents, WriteOptions::default())
}

/// [`write_atomic`] with options.
pub fn write_atomic_with(
    path: &Path,
    contents: &[u8],
    options: WriteOptions,
) -> std::io::Result<()> {
    write_atomic_parts(path, &[contents], options)
}

/// [`write_atomic_with`] for content that comes in parts (written one after the other).
pub fn write_atomic_parts(
    path: &Path,
    parts: &[&[u8]],
    options: WriteOptions,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    if let Some(mode) = options.mode {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    for part in parts {
        tmp.write_all(part)?;
    }
    tmp.as_file().sync_all()?;
    if options.no_clobber {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    } else {
        tmp.persist(path).map_err(|e| e.error)?;
    }
    Ok(())
}

/// A per-user directory of this tool: `$<var>/spin` (an XDG base directory variable such
/// as `XDG_CONFIG_HOME`), else `~/<home_relative>/spin`, else one in the temp directory.
pub fn xdg_dir(var: &str, home_relative: &str) -> std::path::PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(home_relative))
        })
        .unwrap_or_else(std::env::temp_dir)
        .join("spin")
}

/// Every file under `dir` (following symbolic links, refusing loops), sorted: the one
/// directory walk of the tool.
pub fn files_under(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(std::io::Error::from)?;
        if entry.file_type().is_file() {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

/// Whether the file or directory at `path` was last modified more than `age` ago (false
/// when that cannot be told): for removing what interrupted runs left behind.
pub fn older_than(path: &Path, age: std::time::Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// `path` relative to `base` with `/` separators, as guest paths and archive entries write it.
pub fn slash_path(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_without_touching_links_to_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/file");
        write_atomic(&path, b"old").unwrap();
        let link = dir.path().join("link");
        std::fs::hard_link(&path, &link).unwrap();
        write_atomic_with(
            &path,
            b"new",
            WriteOptions {
                mode: Some(0o600),
                no_clobber: false,
            },
        )
        .unwrap();
        let kept = write_atomic_with(
            &path,
            b"newer",
            WriteOptions {
                mode: None,
                no_clobber: true,
            },
        );
        assert_eq!(kept.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read(&link).unwrap(), b"old");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
