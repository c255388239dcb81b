//! Where the tool keeps per-user data.

use std::path::PathBuf;

use spin_app::fsutil::xdg_dir;

/// `$XDG_CACHE_HOME/spin`, else `~/.cache/spin`.
pub fn cache_dir() -> PathBuf {
    xdg_dir("XDG_CACHE_HOME", ".cache")
}

/// `$XDG_DATA_HOME/spin`, else `~/.local/share/spin`.
pub fn data_dir() -> PathBuf {
    xdg_dir("XDG_DATA_HOME", ".local/share")
}

/// The user's Sigstore cache: trust material refreshed by `spin sigstore update-trust-root`.
pub fn sigstore_cache() -> PathBuf {
    cache_dir().join("sigstore")
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
    xdg_dir("XDG_CONFIG_HOME", ".config").join("policy.toml")
}
