//! Where the tool keeps per-user data.

use std::path::PathBuf;

/// `$XDG_CACHE_HOME/spin`, else `~/.cache/spin`, else a temp directory.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("spin")
}
