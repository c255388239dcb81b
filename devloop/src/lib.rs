//! The developer loop around a `spin.toml`: templates for `spin new` / `spin add`
//! (shipped inside the binary, plus user templates installed with
//! `spin templates install --dir`), `spin build` (each component's build command in its
//! workdir, output prefixed with the component id), `spin watch` (rebuild the changed
//! component on save and hot-swap the served app), `spin doctor` (project checks with
//! fixes) and plugin discovery for unknown subcommands.
//!
//! Nothing here talks to the network: templates are embedded at compile time by
//! `build.rs`, and build tools are looked up on `PATH`.

pub mod build;
pub mod doctor;
mod error;
pub mod plugins;
pub mod render;
pub mod templates;
pub mod watch;

pub use error::{Error, Result};
