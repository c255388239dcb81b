//! What the policy engine judges: the subject (an app reference, or a file for
//! `spin verify-bundle`), the signatures found for its digest, and when to judge.

use super::decision::Source;
use sigstore_verify::types::Bundle;
use spin_app::Digest;
use spin_registry::Reference;
use std::path::PathBuf;

/// What was signed.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// An app in a registry: rules are chosen by its repository, and a DSSE signature must
    /// be cosign's signature statement (other in-toto predicates are attestations).
    App(&'a Reference),
    /// A file or a bare digest (`spin verify-bundle`), by its name: any in-toto statement
    /// naming the digest counts.
    Artifact(&'a str),
}

impl Subject<'_> {
    /// What rule scopes are matched against.
    pub fn scope_key(&self) -> String {
        match self {
            Self::App(r) => r.repository_url(),
            Self::Artifact(name) => name.to_string(),
        }
    }

    /// The subject pinned to `digest`, for messages.
    pub fn pinned(&self, digest: &Digest) -> String {
        match self {
            Self::App(r) => format!("{}@{digest}", r.repository_url()),
            Self::Artifact(name) => format!("{name} ({digest})"),
        }
    }

    /// The command that signs it.
    pub fn sign_command(&self, digest: &Digest) -> String {
        match self {
            Self::App(r) => format!("spin sign {}@{digest}", r.repository_url()),
            Self::Artifact(name) => format!("spin sign-bundle {name}"),
        }
    }

    /// Whether a DSSE statement other than cosign's signature counts.
    pub fn any_statement(&self) -> bool {
        matches!(self, Self::Artifact(_))
    }
}

impl std::fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::App(r) => write!(f, "{r}"),
            Self::Artifact(name) => f.write_str(name),
        }
    }
}

/// A signature as found, before verification.
pub struct Found {
    /// Where.
    pub source: Source,
    /// The referrer digest, `.sig` layer, or file.
    pub location: String,
    /// The evidence, or why it could not be read.
    pub content: std::result::Result<Evidence, String>,
}

/// What a signature consists of.
pub enum Evidence {
    /// A Sigstore bundle over the digest: a DSSE in-toto statement naming it (cosign v3),
    /// or a message signature over the digest itself.
    Bundle(Box<Bundle>),
    /// A cosign legacy signature: a message-signature bundle over `payload`, the
    /// simple-signing JSON that names the digest.
    Legacy {
        /// The bundle rebuilt from the layer's annotations.
        bundle: Box<Bundle>,
        /// The layer content.
        payload: Vec<u8>,
    },
}

/// What evaluation needs besides the policy.
pub struct Context {
    /// The time to evaluate at (signature age).
    pub now: jiff::Timestamp,
    /// The user's Sigstore cache, where `spin sigstore update-trust-root` keeps refreshed
    /// public-good and staging material (see `instance::refreshed_dir`).
    pub sigstore_cache: Option<PathBuf>,
}

impl Context {
    /// Evaluate now, with refreshed trust material from `sigstore_cache`.
    pub fn now(sigstore_cache: Option<PathBuf>) -> Self {
        Self {
            now: jiff::Timestamp::now(),
            sigstore_cache,
        }
    }
}
