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

/// `$XDG_DATA_HOME/spin`, else `~/.local/share/spin`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("spin")
}

/// Where `spin templates install` puts user templates.
pub fn templates_dir() -> PathBuf {
    data_dir().join("templates")
}

/// Where plugins live (besides `spin-*` executables on PATH).
pub fn plugins_dir() -> PathBuf {
    data_dir().join("plugins")
}

/// `$XDG_CONFIG_HOME/spin/policy.toml`, else `~/.config/spin/policy.toml`: the policy
/// `spin verify` and `spin up -f REF` use when neither --policy nor SPIN_POLICY is given.
pub fn default_policy() -> PathBuf {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(std::env::temp_dir)
        .join("spin")
        .join("policy.toml")
}
