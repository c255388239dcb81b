//! One module per command; each is a screen long: parse, call the library, render.

pub mod args;
pub mod build;
pub mod kube;
pub mod new;
pub mod plugins;
pub mod policy;
pub mod registry;
pub mod signatures;
pub mod up;
pub mod watch;

use anyhow::bail;
use std::path::{Path, PathBuf};

/// The manifest that `-f` names: a spin.toml, a directory holding one, or ./spin.toml.
pub fn manifest_path(from: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = from.unwrap_or(Path::new("spin.toml"));
    if path.is_dir() {
        let manifest = path.join("spin.toml");
        if !manifest.is_file() {
            bail!(
                "{} contains no spin.toml\n  help: pass -f <path/to/spin.toml>, or run `spin new` to create an app",
                path.display()
            );
        }
        return Ok(manifest);
    }
    if !path.exists() {
        if from.is_none() {
            bail!(
                "no spin.toml in the current directory\n  help: run `spin up -f <path/to/spin.toml>`, or `spin new` to create an app"
            );
        }
        bail!("{} does not exist", path.display());
    }
    Ok(path.to_path_buf())
}

/// Build, printing each command's output prefixed with its component id.
pub fn build_components(manifest: &Path, only: &[String]) -> anyhow::Result<()> {
    let built = spin_devloop::build::build(manifest, only, &|line| println!("{line}"))?;
    println!(
        "Finished building {built} component{}.",
        if built == 1 { "" } else { "s" }
    );
    Ok(())
}
