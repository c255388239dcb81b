//! The apps this runtime runs, and how to run them.
//!
//! An [`App`] is either local (a manifest, a component file or an OCI layout directory the
//! user pointed at) or verified (a registry app whose digest a policy allowed, made only
//! from a [`Verified`] decision). There is no way to make one from an arbitrary locked
//! app, so no library path runs registry content around the gate.

mod handler;
mod load;
mod variables;

pub use load::{Handler, LoadedApp, LoadedComponent, load};

use crate::Error;
use crate::engine::Limits;
use spin_app::lock::LockOptions;
use spin_app::locked::LockedApp;
use spin_app::manifest::AppManifest;
use spin_registry::client::RegistryClient;
use spin_registry::store::Store;
use spin_registry::transfer::{self, Locations, Progress, PullError};
use spin_verify::gate::Verified;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to run an app.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the default key/value database and other state live (Spin: `.spin`).
    pub state_dir: PathBuf,
    /// Optional `runtime-config.toml`.
    pub runtime_config: Option<PathBuf>,
    /// Extra environment for every component (`-e KEY=VALUE`).
    pub env: Vec<(String, String)>,
    /// Values written to the `default` store at start-up (`--key-value k=v`).
    pub key_values: Vec<(String, String)>,
    /// Statements (or `@file`s of them) run on the `default` SQLite database at start-up
    /// (`--sqlite`).
    pub sqlite_statements: Vec<String>,
    /// Application variable values (`--variable k=v`); they beat `SPIN_VARIABLE_*`.
    pub variables: Vec<(String, String)>,
    /// Per-request limits.
    pub limits: Limits,
    /// Directory for compiled components; `None` disables the cache.
    pub compile_cache: Option<PathBuf>,
    /// Where components' stdout and stderr are also appended (`<id>_stdout.txt`,
    /// `<id>_stderr.txt`); `None`: nowhere.
    pub log_dir: Option<PathBuf>,
    /// Keep components' output off the terminal.
    pub quiet: bool,
}

/// An app this runtime will run (see the module documentation).
#[derive(Debug, Clone)]
pub struct App {
    locked: LockedApp,
}

impl App {
    /// The app of a `spin.toml` the user pointed at, locked now (sources digested, file
    /// mounts expanded, URL sources downloaded and checked).
    pub async fn from_manifest(
        manifest: &AppManifest,
        path: &Path,
        options: &LockOptions,
    ) -> Result<Self, Error> {
        let locked = spin_app::lock::lock(manifest, path, options).await?;
        Ok(Self { locked })
    }

    /// A single component file, serving every path.
    pub fn from_component(wasm: &Path) -> Result<Self, Error> {
        Ok(Self {
            locked: spin_app::lock::lock_single_component(wasm)?,
        })
    }

    /// The app in an OCI layout directory the user pointed at (tagged `tag`, or its only
    /// one): every blob is checked on its way into `store`, and the locked app is
    /// validated, before anything runs.
    pub fn from_layout(dir: &Path, tag: Option<&str>, store: &Store) -> Result<Self, Error> {
        let pulled = spin_registry::layout::import(dir, tag, store)?;
        Ok(Self {
            locked: spin_registry::pulled::locked_app(store, &pulled)?,
        })
    }

    /// The registry app `verified` allows: exactly that digest is pulled (never the tag
    /// again, so a tag moved after verification changes nothing), every blob checked.
    pub async fn verified(
        verified: &Verified,
        client: &RegistryClient,
        store: &Store,
        locations: &Locations,
        progress: Arc<dyn Progress>,
    ) -> Result<Self, Error> {
        let pulled =
            transfer::pull(client, store, locations, verified.reference(), progress).await?;
        if &pulled.digest != verified.digest() {
            return Err(PullError::Unsupported(format!(
                "pulled {} but {} was verified; refusing to run it",
                pulled.digest,
                verified.digest()
            ))
            .into());
        }
        Ok(Self {
            locked: spin_registry::pulled::locked_app(store, &pulled)?,
        })
    }

    /// The locked app, to read.
    pub fn locked(&self) -> &LockedApp {
        &self.locked
    }
}
