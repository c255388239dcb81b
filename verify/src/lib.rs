//! # spin-verify: Sigstore signatures and verification policies for `spin`
//!
//! Where identity tokens come from, which Sigstore instance to trust, signing, and judging
//! signatures against policy files, on top of sigstore-rust's `sigstore-sign` and
//! `sigstore-verify`. Data types are kept apart from the clients of the services.
//!
//! - [`instance`]: trust material and signing services of the public-good instance
//!   (embedded, works offline, refreshable over TUF), staging, or a custom instance
//!   (`trusted_root.json` + `signing_config.json`).
//! - [`identity`]: the OIDC identity token for keyless signing (`--identity-token`,
//!   `SIGSTORE_ID_TOKEN`, CI ambient credentials, or an interactive login through
//!   [`services::oidc`]), checked before any service sees it and never printed.
//! - [`services`]: clients of the OIDC provider, Rekor v1 (key-made entries) and the TSA.
//! - [`sign`]: making bundles keylessly ([`sign::keyless`]) or with a key ([`sign::key`]);
//!   [`keys`]: cosign key files, read and generated; [`bundle`]: bundles as data.
//! - [`app`]: `spin sign REF`: an in-toto statement over the app's manifest digest,
//!   attached as an OCI referrer; [`legacy`]: cosign's `sha256-<hex>.sig` format.
//! - [`file`]: `spin sign-bundle` / `spin verify-bundle` for files and bare digests (the
//!   sigstore-conformance protocol), judged by the same policy engine as apps.
//! - [`discover`]: every signature attached to a digest (referrers API, fallback tag
//!   index, cosign legacy `.sig`).
//! - [`policy`]: policy files (rules, authorities, thresholds, audit mode, inline tests),
//!   one-authority policies from command-line flags ([`policy::flags`]), evaluation and
//!   the decision with its trace.
//! - [`gate`]: [`gate::Verified`], the proof the runtime requires before it runs a registry
//!   app, made only by [`gate::verify_reference`] on an allowing decision.
//!
//! Errors are [`Error`]: the verifier's, the registry's (`spin_registry` errors, kept as
//! their own variant) and input errors apart, each with a `help()`.

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
