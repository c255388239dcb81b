//! Sigstore for `spin`: where identity tokens come from, which Sigstore instance to trust,
//! and signing and verifying with Sigstore bundles (v0.3), on top of sigstore-rust's
//! `sigstore-sign` and `sigstore-verify` crates.
//!
//! - [`instance`]: the trust material (trusted root) and signing services (Fulcio, Rekor,
//!   TSA) of the public-good instance (embedded, works offline, refreshable over TUF),
//!   staging, or a custom instance described by `trusted_root.json` + `signing_config.json`.
//! - [`identity`]: the OIDC identity token for keyless signing, from `--identity-token`,
//!   `SIGSTORE_ID_TOKEN`, the CI's ambient credentials or an interactive login ([`login`]:
//!   browser, device flow, or pasted code), checked for expiry and audience before any
//!   service sees it. Tokens are never printed, logged or put in errors.
//! - [`app`]: `spin sign REF` / `spin verify REF`: the app's manifest digest in a cosign v3
//!   style in-toto statement, its bundle attached to the app as an OCI referrer; verifying
//!   reads every attached bundle and fails closed.
//! - [`blob`]: `spin sign-bundle` / `spin verify-bundle` for plain files or `sha256:<hex>`
//!   digests, following the sigstore-conformance CLI protocol; key-based bundles.
//! - [`keys`]: cosign key files, read and generated, for key-based signing.
//! - [`legacy`]: cosign's legacy `sha256-<hex>.sig` signatures, written with
//!   `--legacy-format`.
//!
//! - [`policy`]: verification policy files (rules, authorities, thresholds, audit mode,
//!   inline tests) and the decision with its trace.
//! - [`discover`]: the signatures attached to a digest (referrers API, fallback tag,
//!   cosign legacy `.sig`).
//! - [`gate`]: [`gate::Verified`], the proof the runtime requires before it runs a registry
//!   app, made only by [`gate::verify_reference`] on an allowing decision.

pub mod app;
pub mod blob;
pub mod discover;
pub mod gate;
pub mod identity;
pub mod instance;
pub mod keys;
pub mod legacy;
pub mod login;
pub mod policy;

/// What went wrong, naming the failed step; every message ends in what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry (or the way to it) failed: not found, refused, unreachable, ...
    #[error(transparent)]
    Registry(#[from] spin_registry::client::RegistryError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Trust material or signing configuration is unusable.
    #[error("{0}")]
    Trust(String),
    /// No usable identity token.
    #[error("{0}")]
    Identity(String),
    /// A Sigstore service refused or failed.
    #[error("{0}")]
    Signing(String),
    /// The bundle does not verify.
    #[error("verification failed: {0}")]
    Verification(String),
    /// Bad input from the user.
    #[error("{0}")]
    Input(String),
    /// A policy file is unreadable or wrong (located at file:line:col).
    #[error(transparent)]
    Policy(#[from] spin_app::located::LocatedError),
}

impl Error {
    /// What to do about it, when the message does not already say.
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Registry(e) => Some(e.help()),
            _ => None,
        }
    }
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
