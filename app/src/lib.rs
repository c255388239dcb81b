//! # spin-app: what a Spin app is
//!
//! Owns the app model, independent of where an app is stored or how it runs:
//!
//! - [`manifest`]: `spin.toml` v1/v2 → a validated, normalized [`manifest::AppManifest`],
//!   with errors that name file, line and column and say how to fix them ([`located`], also
//!   used by policy files and runtime config);
//! - [`locked`]: Spin's locked app JSON, the stable boundary between loading an app and
//!   running it, validated as untrusted input when it comes from outside;
//! - [`lock`]: manifest → locked app (component sources resolved and digested, file
//!   mounts expanded into flattened content references);
//! - [`route`], [`allowed_hosts`], [`template`], [`guest_path`]: the syntaxes a manifest uses
//!   for routes, outbound rules, `{{ var }}` templates and file destinations;
//! - [`Digest`]: the one validated `sha256:` digest type;
//! - [`fsutil`]: atomic file writes.
//!
//! It does not talk to registries (`spin-registry`), judge signatures (`spin-verify`) or run
//! Wasm (`spin-runtime`).
//!
//! ```
//! let manifest = spin_app::manifest::parse(
//!     "spin.toml".as_ref(),
//!     "spin_manifest_version = 2\n[application]\nname = \"hi\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hi\"\n[component.hi]\nsource = \"hi.wasm\"\n",
//! )
//! .unwrap();
//! assert_eq!(manifest.name, "hi");
//! ```

pub mod allowed_hosts;
mod digest;
pub mod fsutil;
pub mod guest_path;
pub mod located;
pub mod lock;
pub mod locked;
pub mod manifest;
pub mod route;
pub mod template;

pub use digest::{Digest, DigestError};
