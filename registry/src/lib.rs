//! # spin-registry: Spin apps in OCI registries
//!
//! Owns moving apps between this machine and registries (GHCR, Docker Hub, any OCI 1.1
//! registry) and keeping them here, for content that cannot be trusted:
//!
//! - [`package`]: a locked app → an OCI artifact with Spin's media types ([`media`]),
//!   reproducibly (canonical JSON, deterministic archives);
//! - [`client`]: the distribution protocol (auth, retries, capped bodies, typed errors);
//! - [`transfer`]: push and pull (parallel, resumable, every blob digest-checked);
//! - [`store`]: the local content-addressed store, written once and checked on use;
//! - [`pulled`]: a pulled artifact → its locked app, pointing into the store;
//! - [`layout`]: OCI image layout directories;
//! - [`reference`]: the one registry reference parser;
//! - [`credentials`]: registry logins (keyring or 0600 file) and Docker's config/helpers.
//!
//! What an app is (manifests, locked apps, digests) is `spin-app`'s; whether a pulled app
//! may run is `spin-verify`'s; running it is `spin-runtime`'s.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use spin_registry::{client::{ClientOptions, RegistryClient}, package, transfer};
//! let manifest = spin_app::manifest::load("spin.toml".as_ref())?;
//! let options = spin_app::lock::LockOptions { download_cache: "/tmp/dl".into() };
//! let locked = spin_app::lock::lock(&manifest, "spin.toml".as_ref(), &options).await?;
//! let artifact = package::package_app(&locked, &Default::default())?;
//! let client = RegistryClient::new(ClientOptions::for_user())?;
//! let report = transfer::push(
//!     &client,
//!     &transfer::Locations::beside("/tmp/store".as_ref()),
//!     &artifact,
//!     &"ghcr.io/acme/app:v1".parse()?,
//!     std::sync::Arc::new(transfer::Silent),
//! )
//! .await?;
//! println!("Pushed with digest {}", report.digest);
//! # Ok(()) }
//! ```

mod archive;
mod canonical;
pub mod client;
pub mod credentials;
pub mod endpoint;
mod error;
pub mod layout;
pub mod media;
pub mod package;
pub mod pulled;
pub mod reference;
pub mod store;
pub mod transfer;

pub use canonical::to_canonical_json;
pub use reference::Reference;
