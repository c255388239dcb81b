//! `spin watch`: build, serve, rebuild on save.

use super::up::{ServeArgs, shutdown_signal};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args)]
pub struct WatchArgs {
    /// spin.toml, or a directory containing one [default: ./spin.toml]
    #[arg(short = 'f', long = "from", alias = "file", value_name = "APP")]
    from: Option<PathBuf>,
    /// Quiet time after a change before rebuilding, in milliseconds
    #[arg(short = 'd', long, default_value_t = 100, value_name = "MS")]
    debounce: u64,
    /// Only reload on changes; never run build commands
    #[arg(long = "skip-build")]
    skip_build: bool,
    #[command(flatten)]
    serve: ServeArgs,
}

pub async fn run(args: WatchArgs) -> anyhow::Result<()> {
    let manifest = super::manifest_path(args.from.as_deref())?;
    let app_dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let options = spin_devloop::watch::Options {
        runtime: args.serve.runtime_options(&app_dir),
        lock: args.serve.lock_options(),
        debounce: Duration::from_millis(args.debounce),
        skip_build: args.skip_build,
    };
    let say = |line: &str| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    spin_devloop::watch::run(&manifest, options, &say, shutdown_signal()).await?;
    eprintln!("Shut down.");
    Ok(())
}
