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
//! - [`Digest`]: the one validated `sha256:` digest type;
//! - [`reference`]: the one registry reference parser;
//! - [`oci`]: packaging as OCI artifacts (Spin's layout, reproducibly), the verified local
//!   store, push/pull with retries and resumption, OCI layout directories;
//! - [`credentials`]: registry logins (keyring or 0600 file) and Docker's config/helpers.
//!
//! It does not execute Wasm (that is `spin-runtime`) and does not judge signatures
//! (that is `spin-verify`).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use spin_registry::oci::{client::{ClientOptions, RegistryClient}, package, transfer};
//! let manifest = spin_registry::manifest::load("spin.toml".as_ref())?;
//! let options = spin_registry::lock::LockOptions { download_cache: "/tmp/dl".into() };
//! let locked = spin_registry::lock::lock(&manifest, "spin.toml".as_ref(), &options).await?;
//! let artifact = package::package_app(&locked, &Default::default())?;
//! let client = RegistryClient::new(ClientOptions::for_user())?;
//! let store_root = std::path::Path::new("/tmp/store");
//! let report = transfer::push(
//!     &client,
//!     &transfer::Locations::beside(store_root),
//!     &artifact,
//!     &"ghcr.io/acme/app:v1".parse()?,
//!     std::sync::Arc::new(transfer::Silent),
//! )
//! .await?;
//! println!("Pushed with digest {}", report.digest);
//! # Ok(()) }
//! ```

pub mod allowed_hosts;
pub mod credentials;
mod digest;
pub mod fsutil;
pub mod guest_path;
pub mod lock;
pub mod locked;
pub mod manifest;
pub mod oci;
pub mod reference;
pub mod route;
pub mod template;

pub use digest::{Digest, DigestError};
pub use reference::Reference;
