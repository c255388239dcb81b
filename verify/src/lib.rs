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
pub mod bundle;
pub mod discover;
mod error;
pub mod file;
pub mod gate;
pub mod identity;
pub mod instance;
pub mod keys;
pub mod legacy;
pub mod policy;
pub mod services;
pub mod sign;

pub(crate) use error::io;
pub use error::{Error, Result, redact};
