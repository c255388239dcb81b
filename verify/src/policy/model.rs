//! The policy as the evaluator uses it, after `parse` checked it.

use super::matcher::{Matcher, Scope};
use spin_app::manifest::Location;
use std::path::PathBuf;
use std::time::Duration;

/// The OIDC issuer of GitHub Actions workflow tokens.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// A verification policy file.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file it was read from (relative paths in it are relative to its folder).
    pub path: PathBuf,
    /// What happens to a reference no rule's scope matches.
    pub unmatched: Unmatched,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// The inline test cases.
    pub tests: Vec<TestCase>,
    /// Things that are allowed but probably not meant (shown by `spin policy lint`).
    pub warnings: Vec<String>,
}

/// The fate of references no rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unmatched {
    /// Denied (the default).
    Deny,
    /// Allowed, signed or not (written in the file, never a flag).
    AllowUnsigned,
}

/// Whether a rule's denial stops the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A denial denies.
    Enforce,
    /// Everything is allowed; what enforce would have denied is reported.
    Audit,
}

/// Which Sigstore trust material verifies signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Sigstore public-good (embedded, or as refreshed by `spin sigstore update-trust-root`).
    PublicGood,
    /// Sigstore staging.
    Staging,
    /// A `trusted_root.json` (a private instance).
    TrustedRoot(PathBuf),
}

impl std::fmt::Display for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::PublicGood => f.write_str("Sigstore public-good"),
            Trust::Staging => f.write_str("Sigstore staging"),
            Trust::TrustedRoot(p) => write!(f, "trusted root {}", p.display()),
        }
    }
}

/// What every counted signature must also have.
#[derive(Debug, Clone)]
pub struct Requirements {
    /// Transparency-log inclusion (default on).
    pub tlog: bool,
    /// An RFC 3161 signed timestamp.
    pub timestamp: bool,
    /// The oldest a signature may be.
    pub max_age: Option<Duration>,
}

/// One rule: which references it covers and who must have signed them.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name (for traces).
    pub name: String,
    /// The reference patterns it covers.
    pub scopes: Vec<Scope>,
    /// Enforce or audit.
    pub mode: Mode,
    /// The trust material signatures are verified with.
    pub trust: Trust,
    /// Allow the app whatever its signatures (written in the file, never a flag).
    pub allow_unsigned: bool,
    /// At least this many authorities, each satisfied by a different signer.
    pub threshold: usize,
    /// Requirements on each counted signature.
    pub require: Requirements,
    /// Who may sign.
    pub authorities: Vec<Authority>,
    /// Where the rule starts.
    pub location: Location,
}

/// Someone whose signature counts.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Its name (for traces and fixes).
    pub name: String,
    /// How a signer is recognised.
    pub kind: AuthorityKind,
}

/// Keyless (a Fulcio certificate's claims) or a public key.
#[derive(Debug, Clone)]
pub enum AuthorityKind {
    /// A certificate whose claims match.
    Keyless(Box<Identity>),
    /// A signature this key verifies.
    Key {
        /// The key file.
        path: PathBuf,
        /// The key (SubjectPublicKeyInfo DER).
        key: sigstore_verify::types::DerPublicKey,
        /// `sha256:<hex>` of the key, the signer's identity.
        fingerprint: String,
    },
}

/// The certificate claims a keyless authority requires.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The OIDC issuer.
    pub issuer: Matcher,
    /// The certificate's SAN (email or URI), when constrained.
    pub subject: Option<Matcher>,
    /// GitHub Actions workflow claims.
    pub github: GithubClaims,
}

/// GitHub Actions claims, read from Fulcio's CI extensions.
#[derive(Debug, Clone, Default)]
pub struct GithubClaims {
    /// `owner/name` of the source repository.
    pub repository: Option<String>,
    /// The repository owner (organisation or user).
    pub owner: Option<String>,
    /// The top-level workflow, `owner/name/.github/workflows/f.yml@ref`.
    pub workflow_ref: Option<Matcher>,
    /// The events that may have triggered the run (`push`, `release`, …); empty = any.
    pub events: Vec<String>,
    /// The git ref built (`refs/tags/v1.2.0`).
    pub git_ref: Option<Matcher>,
    /// The commit built.
    pub sha: Option<String>,
    /// Whether the runner must be self-hosted (true) or GitHub-hosted (false).
    pub self_hosted: Option<bool>,
}

impl GithubClaims {
    /// Whether any claim is constrained.
    pub fn is_empty(&self) -> bool {
        self.repository.is_none()
            && self.owner.is_none()
            && self.workflow_ref.is_none()
            && self.events.is_empty()
            && self.git_ref.is_none()
            && self.sha.is_none()
            && self.self_hosted.is_none()
    }
}

/// An inline test: a reference and recorded bundles, and the decision they must give.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// Its name.
    pub name: String,
    /// The reference, pinned to a digest.
    pub reference: spin_registry::Reference,
    /// Recorded Sigstore bundles over that digest.
    pub bundles: Vec<PathBuf>,
    /// Whether it must be allowed.
    pub expect_allow: bool,
    /// Evaluate as of this time instead of now (for `max_age` with old recordings).
    pub at: Option<jiff::Timestamp>,
    /// Where the case is written.
    pub location: Location,
}
