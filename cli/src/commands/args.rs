//! Flags shared by several commands, defined once (cargo's `command_prelude`): how to reach
//! registries, where the cache is, what a pull accepts; and the value parsers they use.

use crate::paths;
use clap::Args;
use spin_registry::client::{ClientOptions, RegistryClient, Timeouts};
use spin_registry::store::{Limits, Store};
use spin_registry::transfer::Locations;
use spin_verify::instance::{Instance, Source};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach the registry.
#[derive(Args, Clone)]
pub struct Connection {
    /// Use plain HTTP for this command's registry (e.g. a local test registry)
    #[arg(long)]
    pub insecure: bool,
    /// Trust this CA certificate (PEM) for TLS
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Give up on a registry that sends nothing for this long, or that averages under
    /// 16 KiB/s once this long has passed
    #[arg(long = "registry-timeout", value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub registry_timeout: Duration,
}

impl Connection {
    /// A client for talking to `registries`.
    pub fn client(&self, registries: &[&str]) -> anyhow::Result<RegistryClient> {
        let mut options = ClientOptions::for_user();
        if self.insecure {
            options.insecure = registries.iter().map(|r| r.to_string()).collect();
        }
        options.ca_files.extend(self.ca_file.clone());
        options.timeouts = Timeouts {
            stall: self.registry_timeout,
            ..Timeouts::default()
        };
        Ok(RegistryClient::new(options)?)
    }
}

/// Where downloads, the content store and compiled components live.
#[derive(Args, Clone)]
pub struct CacheArgs {
    /// Cache directory: the content store, downloads and compiled components
    /// [default: ~/.cache/spin]
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheArgs {
    /// The cache directory in use.
    pub fn dir(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(paths::cache_dir)
    }

    fn store_root(&self) -> PathBuf {
        self.dir().join("registry")
    }

    /// The local content store, accepting what `limits` allow.
    pub fn store(&self, limits: Limits) -> anyhow::Result<Store> {
        Ok(Store::open(&self.store_root())?.with_limits(limits))
    }

    /// Which repositories hold which blobs (for cross-repository mounts).
    pub fn locations(&self) -> Locations {
        Locations::beside(&self.store_root())
    }
}

/// What a pull (from a registry or an OCI layout) accepts.
#[derive(Args, Clone)]
pub struct LimitArgs {
    /// Most bytes an artifact's blobs may add up to
    #[arg(long = "max-artifact-size", value_name = "SIZE", default_value = "4GiB", value_parser = size)]
    pub max_artifact_size: u64,
    /// A files archive layer may expand to this many times its compressed size (and always
    /// to 64 MiB)
    #[arg(
        long = "max-archive-expansion",
        value_name = "RATIO",
        default_value_t = 32
    )]
    pub max_archive_expansion: u64,
    /// Most entries a files archive layer may hold
    #[arg(
        long = "max-archive-entries",
        value_name = "N",
        default_value_t = 100_000
    )]
    pub max_archive_entries: u64,
}

impl LimitArgs {
    /// As store limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_artifact_bytes: self.max_artifact_size,
            max_archive_entries: self.max_archive_entries,
            max_archive_ratio: self.max_archive_expansion,
        }
    }
}

/// Which Sigstore instance.
#[derive(Args)]
pub struct InstanceArgs {
    /// Use the public-good staging instance
    #[arg(long)]
    staging: bool,
    /// The instance's trusted_root.json [default: the embedded public-good root]
    #[arg(long = "trusted-root", value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// The instance's signing_config.json (Fulcio, Rekor and TSA endpoints)
    #[arg(long = "signing-config", value_name = "FILE")]
    signing_config: Option<PathBuf>,
}

impl InstanceArgs {
    /// The trust a one-authority policy from flags (`spin verify --certificate-identity`)
    /// uses.
    pub fn trust(&self) -> spin_verify::policy::Trust {
        use spin_verify::policy::Trust;
        match (&self.trusted_root, self.staging) {
            (Some(p), _) => Trust::TrustedRoot(p.clone()),
            (None, true) => Trust::Staging,
            (None, false) => Trust::PublicGood,
        }
    }

    pub fn load(&self) -> anyhow::Result<Instance> {
        let refreshed = refreshed_dir(self.staging);
        Ok(Instance::load(&Source {
            trusted_root: self.trusted_root.as_deref(),
            signing_config: self.signing_config.as_deref(),
            staging: self.staging,
            refreshed: Some(&refreshed),
        })?)
    }
}

/// Where `spin sigstore update-trust-root` keeps the public-good (or staging) material.
pub fn refreshed_dir(staging: bool) -> PathBuf {
    spin_verify::instance::refreshed_dir(&crate::paths::sigstore_cache(), staging)
}

/// Who must have signed, from flags: a certificate identity (exact or regex) and its
/// issuer, or a key. `spin verify` and `spin verify-bundle` share these.
#[derive(Args)]
pub struct AuthorityArgs {
    /// The certificate identity (email or URI) that must have signed
    #[arg(
        long = "certificate-identity",
        value_name = "IDENTITY",
        conflicts_with = "key"
    )]
    identity: Option<String>,
    /// A regex the certificate identity must match (whole value, unless it starts with ^ or
    /// ends with $)
    #[arg(long = "certificate-identity-regexp", value_name = "REGEX", conflicts_with_all = ["key", "identity"])]
    identity_regexp: Option<String>,
    /// With --certificate-identity[-regexp]: the OIDC issuer
    #[arg(
        long = "certificate-oidc-issuer",
        value_name = "URL",
        conflicts_with = "key"
    )]
    issuer: Option<String>,
    /// With --certificate-identity[-regexp]: a regex for the OIDC issuer
    #[arg(long = "certificate-oidc-issuer-regexp", value_name = "REGEX", conflicts_with_all = ["key", "issuer"])]
    issuer_regexp: Option<String>,
    /// The public key (PEM) that must have signed
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// With --key: accept signatures with no transparency log entry (air-gapped signing)
    #[arg(long = "insecure-ignore-tlog", requires = "key")]
    insecure_ignore_tlog: bool,
}

impl AuthorityArgs {
    /// The flags, for the library.
    pub fn flags(&self) -> spin_verify::policy::flags::FlagAuthority {
        spin_verify::policy::flags::FlagAuthority {
            identity: self.identity.clone(),
            identity_regexp: self.identity_regexp.clone(),
            issuer: self.issuer.clone(),
            issuer_regexp: self.issuer_regexp.clone(),
            key: self.key.clone(),
            ignore_tlog: self.insecure_ignore_tlog,
        }
    }
}

/// The evaluation context: now, and the refreshed trust material cache.
pub fn context() -> spin_verify::policy::Context {
    spin_verify::policy::Context::now(Some(paths::sigstore_cache()))
}

/// `KEY=VALUE` arguments.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// A duration such as `30s`, `500ms` or `2m`.
pub fn duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(
        t.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len()),
    );
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30s or 500ms"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use ms, s or m)")),
    };
    if secs.is_nan() || secs <= 0.0 {
        return Err("the duration must be positive".into());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s:?} is too long"))
}

/// A size such as `512MiB`.
pub fn size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 512MiB"))?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (use KiB, MiB or GiB)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            connection: Connection,
            #[command(flatten)]
            limits: LimitArgs,
        }
        let flags = <Flags as clap::Parser>::parse_from(["spin"]);
        assert_eq!(flags.limits.limits(), Limits::default());
        assert_eq!(flags.connection.registry_timeout, Timeouts::default().stall);
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("0s").is_err());
        assert!(duration("NaN").is_err());
        assert!(duration("1e400").is_err());
        assert!(duration("99999999999999999999999m").is_err());
        assert_eq!(size("4GiB"), Ok(4 << 30));
        assert!(size("99999999999GiB").is_err());
        assert!(size("+5").is_err());
    }
}
