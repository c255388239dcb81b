//! `spin plugins list`, and running `spin <name>` as the plugin `spin-<name>`.

use crate::paths;
use clap::Subcommand;
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PluginsCommand {
    /// List the plugins: `spin-*` executables in the plugins folder and on PATH
    List,
}

pub fn run(command: PluginsCommand) -> anyhow::Result<()> {
    match command {
        PluginsCommand::List => {
            let dir = paths::plugins_dir();
            let plugins = spin_devloop::plugins::list(&dir);
            if plugins.is_empty() {
                println!(
                    "No plugins. Put an executable `spin-<name>` in {} or on PATH, and run it as `spin <name>`.",
                    dir.display()
                );
            }
            for p in plugins {
                println!("{}  {}", p.name, p.path.display());
            }
        }
    }
    Ok(())
}

/// Run `spin-<name>` with the remaining arguments; its exit code becomes ours.
pub fn external(argv: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let (name, rest) = argv
        .split_first()
        .map(|(n, r)| (n.to_string_lossy().into_owned(), r))
        .unwrap_or_default();
    let dir = paths::plugins_dir();
    let Some(plugin) = spin_devloop::plugins::find(&dir, &name) else {
        anyhow::bail!(spin_devloop::plugins::not_found(&dir, &name));
    };
    let status = std::process::Command::new(&plugin.path)
        .args(rest)
        .env("SPIN_BIN_PATH", std::env::current_exe()?)
        .env("SPIN_VERSION", env!("CARGO_PKG_VERSION"))
        .env("SPIN_PLUGINS_DIR", &dir)
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run plugin {}: {e}", plugin.path.display()))?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
