//! # spin-registry: the app model and its distribution
//!
//! Owns everything about *what an app is*, independent of running it:
//!
//! - [`manifest`]: `spin.toml` v1/v2 → a validated, normalized [`manifest::AppManifest`],
//!   with errors that name file, line and column and say how to fix them;
//! - [`locked`]: Spin's locked app JSON (`spin_lock_version = 1`), the stable boundary
//!   between loading an app and running it;
//! - [`lock`]: manifest → locked app (component sources resolved and digested, file
//!   mounts expanded into flattened content references);
//! - [`allowed_hosts`] and [`template`]: the `allowed_outbound_hosts` and `{{ var }}`
//!   syntaxes the manifest uses;
//! - [`Digest`]: the one validated `sha256:` digest type.
//!
//! It does not execute Wasm (that is `spin-runtime`) and does not judge signatures
//! (that is `spin-verify`).

pub mod allowed_hosts;
mod digest;
pub mod lock;
pub mod locked;
pub mod manifest;
pub mod template;

pub use digest::{Digest, DigestError};
